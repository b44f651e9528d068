"""All of the limits domain's SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.limits.domain import SWITCH_NAMES
from atrium.limits.models import BankLimit, LimitChange, OwnLimit, PaymentSwitches, UsageCounter


def _insert(session: Session, model: type) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


# --- bank limits ----------------------------------------------------------------------------------------


def bank_rows(
    session: Session, *, channel: str | None = None, method: str | None = None, currency: str | None = None
) -> list[BankLimit]:
    stmt = select(BankLimit).order_by(BankLimit.currency, BankLimit.method, BankLimit.channel)
    if channel is not None:
        stmt = stmt.where(BankLimit.channel == channel)
    if method is not None:
        stmt = stmt.where(BankLimit.method == method)
    if currency is not None:
        stmt = stmt.where(BankLimit.currency == currency)
    return list(session.scalars(stmt))


def get_bank_row(session: Session, channel: str, method: str, currency: str) -> BankLimit | None:
    return session.get(BankLimit, (channel, method, currency))


def insert_missing_bank_rows(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Insert the rows whose key is not there yet; existing rows (maybe changed by staff) are kept."""
    values = list(rows)
    if not values:
        return 0
    # RETURNING yields only the rows actually inserted (rowcount is not reliable for ORM-enabled inserts).
    inserted = session.execute(
        _insert(session, BankLimit).values(values).on_conflict_do_nothing().returning(BankLimit.channel)
    )
    return len(inserted.all())


# --- the customer's own limits and switches -----------------------------------------------------------------


def get_own(session: Session, customer_id: str, method: str, currency: str) -> OwnLimit | None:
    return session.get(OwnLimit, (customer_id, method, currency))


def own_rows(session: Session, customer_id: str) -> list[OwnLimit]:
    return list(
        session.scalars(
            select(OwnLimit)
            .where(OwnLimit.customer_id == customer_id)
            .order_by(OwnLimit.currency, OwnLimit.method)
        )
    )


def add_own(
    session: Session, *, customer_id: str, method: str, currency: str, per_transaction_minor: int | None,
    daily_minor: int | None,
) -> OwnLimit:
    row = OwnLimit(
        customer_id=customer_id, method=method, currency=currency,
        per_transaction_minor=per_transaction_minor, daily_minor=daily_minor, updated_at=clock.now(),
    )
    session.add(row)
    return row


def get_switches(session: Session, customer_id: str) -> PaymentSwitches | None:
    return session.get(PaymentSwitches, customer_id)


def add_switches(session: Session, *, customer_id: str, **switches: bool) -> PaymentSwitches:
    row = PaymentSwitches(customer_id=customer_id, updated_at=clock.now(), **switches)
    session.add(row)
    return row


def add_change(
    session: Session, *, customer_id: str | None, actor_kind: str, actor_id: str, setting: str,
    old_value: dict[str, Any] | None, new_value: dict[str, Any],
) -> LimitChange:
    row = LimitChange(
        id=new_id("lch"), customer_id=customer_id, actor_kind=actor_kind, actor_id=actor_id, setting=setting,
        old_value=old_value, new_value=new_value, changed_at=clock.now(),
    )
    session.add(row)
    return row


def changes(session: Session, customer_id: str, *, limit: int = 50) -> list[LimitChange]:
    return list(
        session.scalars(
            select(LimitChange)
            .where(LimitChange.customer_id == customer_id)
            .order_by(LimitChange.changed_at.desc(), LimitChange.id.desc())
            .limit(limit)
        )
    )


# --- usage counters -----------------------------------------------------------------------------------------


# The payment path's statements, built once: per call only the parameters change (no statement building,
# and the compiled form comes straight from SQLAlchemy's cache).
_SETTINGS = (
    select(
        PaymentSwitches.customer_id, *(getattr(PaymentSwitches, n) for n in SWITCH_NAMES),
        BankLimit.channel, BankLimit.per_transaction_minor, BankLimit.daily_minor, BankLimit.monthly_minor,
        OwnLimit.customer_id, OwnLimit.per_transaction_minor, OwnLimit.daily_minor,
    )
    .select_from(select(literal(1).label("one")).subquery("anchor"))
    .outerjoin(PaymentSwitches, PaymentSwitches.customer_id == bindparam("customer_id"))
    .outerjoin(BankLimit, and_(
        BankLimit.channel == bindparam("channel"), BankLimit.method == bindparam("method"),
        BankLimit.currency == bindparam("currency"),
    ))
    .outerjoin(OwnLimit, and_(
        OwnLimit.customer_id == bindparam("customer_id"), OwnLimit.method == bindparam("method"),
        OwnLimit.currency == bindparam("currency"),
    ))
)


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    """What judging one payment reads: the stored switches, bank row and own row (None where none is)."""

    switches: dict[str, bool] | None
    bank: tuple[int, int, int] | None  # per transaction, daily, monthly
    own: tuple[int | None, int | None] | None  # per transaction, daily


def payment_settings(
    session: Session, *, customer_id: str, channel: str, method: str, currency: str
) -> PaymentSettings:
    """The customer's switches, the bank's limit and the customer's own limit in one round trip (outer
    joins from a one-row anchor, so a missing row reads as NULLs rather than dropping the others)."""
    row = session.execute(
        _SETTINGS, {"customer_id": customer_id, "channel": channel, "method": method, "currency": currency}
    ).one()
    n = len(SWITCH_NAMES)
    switches = None if row[0] is None else dict(zip(SWITCH_NAMES, row[1 : 1 + n], strict=True))
    bank = None if row[1 + n] is None else (row[2 + n], row[3 + n], row[4 + n])
    own = None if row[5 + n] is None else (row[6 + n], row[7 + n])
    return PaymentSettings(switches, bank, own)


_COUNTER_KEY = and_(
    # Not named like the columns: UPDATE reserves those names for its SET clause.
    UsageCounter.customer_id == bindparam("k_customer"), UsageCounter.method == bindparam("k_method"),
    UsageCounter.currency == bindparam("k_currency"),
    tuple_(UsageCounter.period_kind, UsageCounter.period_key).in_(bindparam("k_periods", expanding=True)),
)
_LOCK_COUNTERS = (
    select(UsageCounter.period_kind, UsageCounter.period_key, UsageCounter.used_minor)
    .where(_COUNTER_KEY)
    .order_by(UsageCounter.period_kind, UsageCounter.period_key)
    .with_for_update()
)
_COUNTERS = UsageCounter.__table__
# On the table, not the entity: a Core UPDATE skips the ORM's bulk-update bookkeeping (nothing to sync).
_ADD_TO_COUNTERS = (
    update(_COUNTERS)
    .where(_COUNTER_KEY)
    .values(used_minor=_COUNTERS.c.used_minor + bindparam("amount_minor"), updated_at=bindparam("now"))
)


def _locked_counters(
    session: Session, key: dict[str, str], periods: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    rows = session.execute(_LOCK_COUNTERS, {
        "k_customer": key["customer_id"], "k_method": key["method"], "k_currency": key["currency"],
        "k_periods": periods,
    })
    return {(kind, period): used for kind, period, used in rows}


def lock_counters(
    session: Session, *, customer_id: str, method: str, currency: str, periods: list[tuple[str, str]],
    create: bool = True,
) -> dict[tuple[str, str], int]:
    """Take the (period kind, period key) counters FOR UPDATE — one SELECT for all of them, locking in
    primary-key order so two transactions never wait on each other crosswise — and, with `create`, insert
    the missing ones first. Returns the locked `used_minor` values.

    The common case (the day's and the month's counters exist) is that one SELECT. When some are missing,
    one INSERT … ON CONFLICT DO NOTHING creates them race-free (a second inserter waits for the first
    one's commit and then inserts nothing) and a second locked SELECT reads the committed values; the rows
    locked by the first SELECT stay locked, so the order of waiting is the same for every transaction.
    """
    ordered = sorted(set(periods))
    key = {"customer_id": customer_id, "method": method, "currency": currency}
    locked = _locked_counters(session, key, ordered)
    missing = [p for p in ordered if p not in locked]
    if create and missing:
        now = clock.now()
        session.execute(
            _insert(session, UsageCounter)
            .values([
                {**key, "period_kind": kind, "period_key": period, "used_minor": 0, "updated_at": now}
                for kind, period in missing
            ])
            .on_conflict_do_nothing()
        )
        locked = _locked_counters(session, key, ordered)
    return locked


def add_to_counters(
    session: Session, *, customer_id: str, method: str, currency: str, periods: list[tuple[str, str]],
    amount_minor: int,
) -> None:
    """Add `amount_minor` to counters the caller holds locked (see `lock_counters`): one UPDATE for all."""
    session.execute(_ADD_TO_COUNTERS, {
        "k_customer": customer_id, "k_method": method, "k_currency": currency,
        "k_periods": sorted(set(periods)), "amount_minor": amount_minor, "now": clock.now(),
    })


def set_counter(
    session: Session, *, customer_id: str, method: str, currency: str, period_kind: str, period_key: str,
    used_minor: int,
) -> None:
    """Write a counter the caller holds locked (see `lock_counters`)."""
    session.execute(
        update(UsageCounter)
        .where(
            UsageCounter.customer_id == customer_id, UsageCounter.method == method,
            UsageCounter.currency == currency, UsageCounter.period_kind == period_kind,
            UsageCounter.period_key == period_key,
        )
        .values(used_minor=used_minor, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def usage_rows(
    session: Session, customer_id: str, *, day_key: str, month_key: str
) -> dict[tuple[str, str, str], int]:
    """{(method, currency, period kind): used} for one day and its month, unlocked (for display)."""
    rows = session.execute(
        select(UsageCounter.method, UsageCounter.currency, UsageCounter.period_kind, UsageCounter.used_minor)
        .where(UsageCounter.customer_id == customer_id)
        .where(
            ((UsageCounter.period_kind == "day") & (UsageCounter.period_key == day_key))
            | ((UsageCounter.period_kind == "month") & (UsageCounter.period_key == month_key))
        )
    )
    return {(m, c, k): used for m, c, k, used in rows}
