"""Limits use cases: judge and reserve a payment, release it, show usage, change limits and switches.

Services flush, never commit: `check_and_reserve` runs inside the payment's own transaction, so the usage
it records commits or rolls back with the payment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from atrium.events import outbox
from atrium.events.catalogue import PaymentLimitChanged
from atrium.identity import stepup
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.limits import domain, repository
from atrium.limits.domain import CHANNELS, DEFAULT_BANK_LIMITS, METHODS, BankLimits, OwnLimits, Switches
from atrium.limits.errors import NotAllowedToManageLimits
from atrium.limits.schemas import (
    BankLimitRead,
    LimitChangeRead,
    LimitsOverview,
    OwnLimitChange,
    OwnLimitRead,
    SwitchesChange,
    SwitchesRead,
    UsageLine,
)

LIMIT_MANAGER_ROLES = frozenset({"operator", "administrator"})


def _moment(at: datetime | None) -> datetime:
    at = at or clock.now()
    if at.tzinfo is None:
        raise ValidationFailed("the payment time must carry a time zone")
    return at


# --- bank limits -----------------------------------------------------------------------------------------


def ensure_default_bank_limits(session: Session) -> int:
    """Write the built-in default bank limits (see `domain.DEFAULT_BANK_LIMITS`) for every channel, method
    and currency that has no row yet; rows staff have changed are kept. Idempotent. Returns rows added."""
    now = clock.now()
    added = repository.insert_missing_bank_rows(
        session,
        (
            {"channel": ch, "method": m, "currency": cur, "per_transaction_minor": b.per_transaction_minor,
             "daily_minor": b.daily_minor, "monthly_minor": b.monthly_minor, "updated_at": now}
            for (ch, m, cur), b in DEFAULT_BANK_LIMITS.items()
        ),
    )
    session.flush()
    return added


def _bank(session: Session, channel: str, method: str, currency: str) -> BankLimits:
    """The row if there is one, else the built-in default, else nothing offered (all zero)."""
    row = repository.get_bank_row(session, channel, method, currency)
    if row is not None:
        return BankLimits(row.per_transaction_minor, row.daily_minor, row.monthly_minor)
    return DEFAULT_BANK_LIMITS.get((channel, method, currency), BankLimits(0, 0, 0))


def _bank_table(
    session: Session, *, channel: str | None = None, method: str | None = None, currency: str | None = None
) -> dict[tuple[str, str, str], BankLimits]:
    """Defaults overlaid with the stored rows, filtered."""
    table = {
        k: v for k, v in DEFAULT_BANK_LIMITS.items()
        if (channel is None or k[0] == channel) and (method is None or k[1] == method)
        and (currency is None or k[2] == currency)
    }
    for row in repository.bank_rows(session, channel=channel, method=method, currency=currency):
        table[(row.channel, row.method, row.currency)] = BankLimits(
            row.per_transaction_minor, row.daily_minor, row.monthly_minor
        )
    return table


def _bank_read(key: tuple[str, str, str], b: BankLimits) -> BankLimitRead:
    channel, method, currency = key
    return BankLimitRead(
        channel=channel, method=method, currency=currency,  # type: ignore[arg-type]
        per_transaction_minor=b.per_transaction_minor, daily_minor=b.daily_minor,
        monthly_minor=b.monthly_minor,
    )


def list_bank_limits(
    session: Session, *, channel: str | None = None, currency: str | None = None
) -> list[BankLimitRead]:
    table = _bank_table(session, channel=channel, currency=currency)
    order = {m: i for i, m in enumerate(METHODS)} | {c: i for i, c in enumerate(CHANNELS)}
    keys = sorted(table, key=lambda k: (k[2], order[k[1]], order[k[0]]))
    return [_bank_read(k, table[k]) for k in keys]


def get_bank_limit(session: Session, *, channel: str, method: str, currency: str) -> BankLimitRead:
    key = (domain.check_channel(channel), domain.check_method(method), domain.check_currency(currency))
    return _bank_read(key, _bank(session, *key))


def require_limit_manager(staff_role: str | None) -> None:
    if staff_role not in LIMIT_MANAGER_ROLES:
        raise NotAllowedToManageLimits("bank limits are managed by operators and administrators")


def set_bank_limit(
    session: Session, *, staff_id: str, staff_role: str | None, channel: str, method: str, currency: str,
    per_transaction_minor: int, daily_minor: int, monthly_minor: int,
) -> BankLimitRead:
    """Change (or create) the bank's limit for one channel, method and currency; audited."""
    require_limit_manager(staff_role)
    key = (domain.check_channel(channel), domain.check_method(method), domain.check_currency(currency))
    new = BankLimits(per_transaction_minor, daily_minor, monthly_minor)
    domain.validate_bank(new)
    old = _bank(session, *key)
    if old == new and repository.get_bank_row(session, *key) is not None:
        return _bank_read(key, new)
    now = clock.now()
    # Insert-if-missing first (the row may only exist as a built-in default), then write the new values.
    repository.insert_missing_bank_rows(session, [{"channel": key[0], "method": key[1], "currency": key[2],
                                                   **_limits_dict(new), "updated_at": now}])
    row = repository.get_bank_row(session, *key)
    assert row is not None  # inserted just above if it was missing, in this transaction
    row.per_transaction_minor, row.daily_minor, row.monthly_minor = (
        new.per_transaction_minor, new.daily_minor, new.monthly_minor,
    )
    row.updated_at, row.updated_by = now, staff_id
    if old != new:
        repository.add_change(
            session, customer_id=None, actor_kind="staff", actor_id=staff_id, setting="bank:" + ":".join(key),
            old_value=_limits_dict(old), new_value=_limits_dict(new),
        )
    session.flush()
    return _bank_read(key, new)


def _limits_dict(b: BankLimits) -> dict[str, int]:
    return {"per_transaction_minor": b.per_transaction_minor, "daily_minor": b.daily_minor,
            "monthly_minor": b.monthly_minor}


# --- the customer's own limits ----------------------------------------------------------------------------


def _own(session: Session, customer_id: str, method: str, currency: str) -> OwnLimits | None:
    row = repository.get_own(session, customer_id, method, currency)
    return OwnLimits(row.per_transaction_minor, row.daily_minor) if row else None


def get_own_limits(session: Session, customer_id: str) -> list[OwnLimitRead]:
    return [
        OwnLimitRead(method=r.method, currency=r.currency,  # type: ignore[arg-type]
                     per_transaction_minor=r.per_transaction_minor, daily_minor=r.daily_minor)
        for r in repository.own_rows(session, customer_id)
        if r.per_transaction_minor is not None or r.daily_minor is not None
    ]


def set_own_limit(
    session: Session, *, customer_id: str, method: str, currency: str = "CNY",
    per_transaction_minor: int | None, daily_minor: int | None, actor_kind: str = "customer",
    actor_id: str | None = None, principal: Principal | None = None, step_up: str | None = None,
) -> OwnLimitChange:
    """Set the customer's own per-transaction and daily limits for a method (None: the bank's limit).

    Refused (422) above the bank's highest limit for the method and currency. The result's `raised` says
    whether any limit went up. With a customer's `principal`, a raise demands a step-up grant bound to
    the new values (`stepup.require`, action "limit.raise"); lowering never does.
    """
    domain.check_method(method)
    domain.check_currency(currency)
    new = OwnLimits(per_transaction_minor, daily_minor)
    cap = domain.cap_of(list(_bank_table(session, method=method, currency=currency).values()))
    domain.validate_own(new, cap)
    row = repository.get_own(session, customer_id, method, currency)
    old = OwnLimits(row.per_transaction_minor, row.daily_minor) if row else OwnLimits()
    read = OwnLimitRead(method=method, currency=currency,  # type: ignore[arg-type]
                        per_transaction_minor=per_transaction_minor, daily_minor=daily_minor)
    if old == new:
        return OwnLimitChange(limit=read, raised=False, changed=False)
    if principal is not None and domain.is_raise(old, new):
        stepup.require(session, principal, action="limit.raise", token=step_up,
                       elements={"setting": f"own:{method}:{currency}",
                                 **{k: str(v) for k, v in _own_dict(new).items()}},
                       summary=f"{method} {currency}")
    if row is None:
        repository.add_own(session, customer_id=customer_id, method=method, currency=currency,
                           per_transaction_minor=per_transaction_minor, daily_minor=daily_minor)
    else:
        row.per_transaction_minor, row.daily_minor = per_transaction_minor, daily_minor
        row.updated_at = clock.now()
    setting = f"own:{method}:{currency}"
    _audit_and_announce(
        session, customer_id=customer_id, actor_kind=actor_kind, actor_id=actor_id or customer_id,
        setting=setting, old_value=None if row is None else _own_dict(old), new_value=_own_dict(new),
    )
    session.flush()
    return OwnLimitChange(limit=read, raised=domain.is_raise(old, new), changed=True)


def _own_dict(o: OwnLimits) -> dict[str, int | None]:
    return {"per_transaction_minor": o.per_transaction_minor, "daily_minor": o.daily_minor}


def _audit_and_announce(
    session: Session, *, customer_id: str, actor_kind: str, actor_id: str, setting: str,
    old_value: dict | None, new_value: dict,
) -> None:
    repository.add_change(session, customer_id=customer_id, actor_kind=actor_kind, actor_id=actor_id,
                          setting=setting, old_value=old_value, new_value=new_value)
    outbox.record(session, PaymentLimitChanged(customer_id=customer_id, setting=setting))


# --- switches -------------------------------------------------------------------------------------------


def _switches(session: Session, customer_id: str) -> Switches:
    row = repository.get_switches(session, customer_id)
    if row is None:
        return Switches()
    return Switches(**{n: getattr(row, n) for n in domain.SWITCH_NAMES})


def get_switches(session: Session, customer_id: str) -> SwitchesRead:
    return SwitchesRead(**_switch_dict(_switches(session, customer_id)))


def _switch_dict(s: Switches) -> dict[str, bool]:
    return {n: getattr(s, n) for n in domain.SWITCH_NAMES}


def set_switches(
    session: Session, *, customer_id: str, changes: dict[str, bool], actor_kind: str = "customer",
    actor_id: str | None = None, principal: Principal | None = None, step_up: str | None = None,
) -> SwitchesChange:
    """Turn switches on or off (only those named in `changes`); each change is audited and announced.
    `loosened` in the result says whether any switch went from off to on."""
    unknown = set(changes) - set(domain.SWITCH_NAMES)
    if unknown:
        raise ValidationFailed(f"unknown switch {sorted(unknown)[0]!r}")
    if any(not isinstance(v, bool) for v in changes.values()):
        raise ValidationFailed("a switch is true or false")
    old = _switches(session, customer_id)
    new = Switches(**(_switch_dict(old) | changes))
    changed = [n for n in domain.SWITCH_NAMES if getattr(old, n) != getattr(new, n)]
    if principal is not None and domain.loosens(old, new):
        # Switching a payment type on widens what a stolen session could do: a bound step-up first.
        stepup.require(session, principal, action="limit.raise", token=step_up,
                       elements={"setting": "switches", **{n: str(getattr(new, n)) for n in changed}},
                       summary=", ".join(n for n in changed if getattr(new, n)))
    if changed:
        row = repository.get_switches(session, customer_id) or repository.add_switches(
            session, customer_id=customer_id, **_switch_dict(new)
        )
        for n in changed:
            setattr(row, n, getattr(new, n))
        row.updated_at = clock.now()
        for n in changed:
            _audit_and_announce(
                session, customer_id=customer_id, actor_kind=actor_kind, actor_id=actor_id or customer_id,
                setting=f"switch:{n}", old_value={"on": getattr(old, n)}, new_value={"on": getattr(new, n)},
            )
        session.flush()
    return SwitchesChange(switches=SwitchesRead(**_switch_dict(new)), loosened=domain.loosens(old, new),
                          changed=changed)


def list_changes(session: Session, customer_id: str, *, limit: int = 50) -> list[LimitChangeRead]:
    """The customer's own audit trail, newest first."""
    return [LimitChangeRead.model_validate(r) for r in repository.changes(session, customer_id, limit=limit)]


# --- reserving and releasing usage --------------------------------------------------------------------------


def check_and_reserve(
    session: Session, *, customer_id: str, channel: str, method: str, amount_minor: int, currency: str,
    at: datetime | None = None, overseas: bool = False, card_not_present: bool = False,
    cooling_off: bool = False,
) -> None:
    """Judge a payment against the switches and the effective limits, then count it as used.
    `cooling_off`: the payment comes from a newly bound device, whose lower caps apply too.

    Raises PaymentSwitchOff or LimitExceeded (both 422). On success the amount is added to the customer's
    daily and monthly counters for `method` and `currency`, in the caller's transaction, under a row lock
    that serializes concurrent payments of the same customer.
    """
    attempt = domain.Attempt(
        channel=domain.check_channel(channel), method=domain.check_method(method),
        currency=domain.check_currency(currency), amount_minor=domain.check_amount(amount_minor),
        overseas=overseas, card_not_present=card_not_present,
    )
    when = domain.periods(_moment(at))
    # Cheap refusals first, before taking any lock. Switches, bank and own limits come in one query.
    stored = repository.payment_settings(
        session, customer_id=customer_id, channel=channel, method=method, currency=currency
    )
    switches = Switches(**stored.switches) if stored.switches is not None else Switches()
    domain.check_switches(switches, attempt, when)
    bank = (
        BankLimits(*stored.bank) if stored.bank is not None
        else DEFAULT_BANK_LIMITS.get((channel, method, currency), BankLimits(0, 0, 0))
    )
    own = OwnLimits(*stored.own) if stored.own is not None else None
    eff = domain.effective(bank, own)
    if cooling_off:
        eff = domain.cooled(eff, currency)
    domain.check_per_transaction(eff, attempt)
    periods = [("day", when.day_key), ("month", when.month_key)]
    locked = repository.lock_counters(
        session, customer_id=customer_id, method=method, currency=currency, periods=periods
    )
    used_day, used_month = locked[("day", when.day_key)], locked[("month", when.month_key)]
    domain.check_periods(eff, attempt, used_day=used_day, used_month=used_month)
    # Both counters are held locked since the SELECT above, so adding in SQL writes exactly the checked
    # `used + amount`.
    repository.add_to_counters(session, customer_id=customer_id, method=method, currency=currency,
                               periods=periods, amount_minor=amount_minor)
    session.flush()


def release(
    session: Session, *, customer_id: str, method: str, amount_minor: int, currency: str, at: datetime
) -> None:
    """Give back usage for a payment that returned or failed. `at` is when the payment was reserved, so the
    amount goes back to that day and month (a return from yesterday does not widen today's limit).
    Counters never drop below zero."""
    domain.check_method(method)
    domain.check_currency(currency)
    domain.check_amount(amount_minor)
    when = domain.periods(_moment(at))
    keys = {"day": when.day_key, "month": when.month_key}
    locked = repository.lock_counters(
        session, customer_id=customer_id, method=method, currency=currency, periods=list(keys.items()),
        create=False,
    )
    for (kind, key), used in locked.items():
        repository.set_counter(session, customer_id=customer_id, method=method, currency=currency,
                               period_kind=kind, period_key=key, used_minor=max(0, used - amount_minor))
    session.flush()


# --- what the customer sees ---------------------------------------------------------------------------------


def usage(
    session: Session, customer_id: str, *, channel: str = "mobile", currency: str | None = None,
    at: datetime | None = None,
) -> list[UsageLine]:
    """Limit, used and remaining per method and currency on `channel`, for the current Shanghai day and
    month (or those of `at`). Read-only: safe on a ReadOnlySession."""
    domain.check_channel(channel)
    if currency is not None:
        domain.check_currency(currency)
    when = domain.periods(_moment(at))
    used = repository.usage_rows(session, customer_id, day_key=when.day_key, month_key=when.month_key)
    own = {(r.method, r.currency): OwnLimits(r.per_transaction_minor, r.daily_minor)
           for r in repository.own_rows(session, customer_id)}
    lines = []
    table = _bank_table(session, channel=channel, currency=currency)
    for bank_read in list_bank_limits(session, channel=channel, currency=currency):
        method, cur = bank_read.method, bank_read.currency
        eff = domain.effective(table[(channel, method, cur)], own.get((method, cur)))
        day_used, month_used = used.get((method, cur, "day"), 0), used.get((method, cur, "month"), 0)
        lines.append(UsageLine(
            channel=channel, method=method, currency=cur,  # type: ignore[arg-type]
            per_transaction_minor=eff.per_transaction.limit_minor,
            per_transaction_scope=eff.per_transaction.scope,
            daily_limit_minor=eff.daily.limit_minor, daily_scope=eff.daily.scope, daily_used_minor=day_used,
            daily_remaining_minor=domain.remaining(eff.daily.limit_minor, day_used),
            monthly_limit_minor=eff.monthly.limit_minor, monthly_used_minor=month_used,
            monthly_remaining_minor=domain.remaining(eff.monthly.limit_minor, month_used),
        ))
    return lines


def overview(
    session: Session, customer_id: str, *, channel: str = "mobile", currency: str | None = None,
    at: datetime | None = None,
) -> LimitsOverview:
    """Everything the app's limits page shows: bank limits, own limits, switches, usage remaining."""
    at = _moment(at)
    when = domain.periods(at)
    return LimitsOverview(
        channel=domain.check_channel(channel),  # type: ignore[arg-type]
        day=when.day_key, month=when.month_key, switches=get_switches(session, customer_id),
        bank_limits=list_bank_limits(session, channel=channel, currency=currency),
        own_limits=get_own_limits(session, customer_id),
        usage=usage(session, customer_id, channel=channel, currency=currency, at=at),
    )
