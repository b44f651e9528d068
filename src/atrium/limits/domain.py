"""Pure limit rules: which switch governs a payment, the effective limits, the evaluation order, the
Shanghai calendar periods, and the bank's default limits. No SQLAlchemy, no FastAPI.

Evaluation order (the first refusal wins, so the customer is told the most actionable reason):
1. switches — online_payments, qr_payments, overseas, night_time, card_not_present;
2. per-transaction limit — min(bank, own);
3. daily usage + amount ≤ min(bank daily, own daily);
4. monthly usage + amount ≤ bank monthly (the customer sets no monthly limit of their own).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from atrium.kit.errors import ValidationFailed
from atrium.kit.money import CURRENCY_EXPONENT, MAX_AMOUNT_MINOR, exponent
from atrium.limits.errors import InvalidLimit, LimitExceeded, OwnLimitAboveBankLimit, PaymentSwitchOff

Channel = Literal["mobile", "web", "api", "branch", "scheduled"]
Method = Literal["own_transfer", "internal_transfer", "interbank_transfer", "qr_payment"]
Scope = Literal["bank", "customer", "new_device"]
PeriodKind = Literal["day", "month"]

CHANNELS: tuple[str, ...] = get_args(Channel)
METHODS: tuple[str, ...] = get_args(Method)

# Day and month boundaries are the customer's banking calendar: China time, whatever the server's zone.
SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT_START = time(0, 0)
NIGHT_END = time(6, 0)

# Channels on which the customer pays remotely. `branch` is in person with an ID check; `scheduled` runs an
# order the customer set up earlier, so neither is an "online payment" the switch is meant to stop.
ONLINE_CHANNELS = frozenset({"mobile", "web", "api"})


@dataclass(frozen=True, slots=True)
class BankLimits:
    per_transaction_minor: int
    daily_minor: int
    monthly_minor: int


@dataclass(frozen=True, slots=True)
class OwnLimits:
    """The customer's own, lower limits for one method and currency; None means "the bank's limit"."""

    per_transaction_minor: int | None = None
    daily_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Switches:
    """Defaults: everything on except overseas. Night-time payments default ON so the demo bank works at
    any hour; a customer who wants the protection switches them off (fraud peaks while people sleep)."""

    online_payments: bool = True
    overseas: bool = False
    night_time: bool = True
    qr_payments: bool = True
    card_not_present: bool = True


SWITCH_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Switches))


@dataclass(frozen=True, slots=True)
class Bound:
    limit_minor: int
    scope: Scope


@dataclass(frozen=True, slots=True)
class Effective:
    per_transaction: Bound
    daily: Bound
    monthly: Bound


@dataclass(frozen=True, slots=True)
class Periods:
    local: datetime
    day_key: str  # "2024-05-01" (Shanghai date)
    month_key: str  # "2024-05"

    @property
    def is_night(self) -> bool:
        return NIGHT_START <= self.local.time() < NIGHT_END


@dataclass(frozen=True, slots=True)
class Attempt:
    """One payment to judge."""

    channel: str
    method: str
    currency: str
    amount_minor: int
    overseas: bool = False
    card_not_present: bool = False


def periods(at: datetime) -> Periods:
    if at.tzinfo is None:
        raise ValueError("limits need an aware datetime")
    local = at.astimezone(SHANGHAI)
    month_key = f"{local.year:04d}-{local.month:02d}"
    return Periods(local=local, day_key=local.date().isoformat(), month_key=month_key)


def _bound(bank: int, own: int | None) -> Bound:
    # A tie is reported as the bank's limit: raising the own limit would not help the customer.
    if own is not None and own < bank:
        return Bound(own, "customer")
    return Bound(bank, "bank")


def effective(bank: BankLimits, own: OwnLimits | None) -> Effective:
    own = own or OwnLimits()
    return Effective(
        per_transaction=_bound(bank.per_transaction_minor, own.per_transaction_minor),
        daily=_bound(bank.daily_minor, own.daily_minor),
        monthly=Bound(bank.monthly_minor, "bank"),
    )


# A device bound less than a day ago (its cooling-off period) pays out at most this much, whatever the
# bank's and the customer's own limits say (per transaction, per day). Other currencies: DEFAULT.
COOLING_OFF: dict[str, tuple[int, int]] = {"CNY": (2_000_00, 5_000_00), "HKD": (2_000_00, 5_000_00),
                                           "USD": (300_00, 700_00), "EUR": (300_00, 700_00)}
COOLING_OFF_DEFAULT = (300_00, 700_00)


def cooled(eff: Effective, currency: str) -> Effective:
    """The effective limits tightened by a new device's cooling-off caps."""
    per_txn, daily = COOLING_OFF.get(currency, COOLING_OFF_DEFAULT)
    return Effective(
        per_transaction=eff.per_transaction if eff.per_transaction.limit_minor <= per_txn
        else Bound(per_txn, "new_device"),
        daily=eff.daily if eff.daily.limit_minor <= daily else Bound(daily, "new_device"),
        monthly=eff.monthly,
    )


def remaining(limit_minor: int, used_minor: int) -> int:
    return max(0, limit_minor - used_minor)


def blocking_switch(switches: Switches, attempt: Attempt, when: Periods) -> str | None:
    """The first switch that stops this payment, or None. Own transfers never leave the customer, so the
    online and night-time switches (fraud protections) do not apply to them."""
    outward = attempt.method != "own_transfer"
    if outward and attempt.channel in ONLINE_CHANNELS and not switches.online_payments:
        return "online_payments"
    if attempt.method == "qr_payment" and not switches.qr_payments:
        return "qr_payments"
    if attempt.overseas and not switches.overseas:
        return "overseas"
    if outward and attempt.channel != "scheduled" and when.is_night and not switches.night_time:
        return "night_time"
    if attempt.card_not_present and not switches.card_not_present:
        return "card_not_present"
    return None


def check_switches(switches: Switches, attempt: Attempt, when: Periods) -> None:
    switch = blocking_switch(switches, attempt, when)
    if switch is not None:
        raise PaymentSwitchOff(switch=switch, method=attempt.method, channel=attempt.channel)


def _refuse(kind: str, bound: Bound, remaining_minor: int, attempt: Attempt) -> LimitExceeded:
    return LimitExceeded(
        limit=kind, scope=bound.scope, method=attempt.method, channel=attempt.channel,
        currency=attempt.currency, limit_minor=bound.limit_minor, remaining_minor=remaining_minor,
    )


def check_per_transaction(eff: Effective, attempt: Attempt) -> None:
    if attempt.amount_minor > eff.per_transaction.limit_minor:
        raise _refuse("per_transaction", eff.per_transaction, eff.per_transaction.limit_minor, attempt)


def check_periods(eff: Effective, attempt: Attempt, *, used_day: int, used_month: int) -> None:
    for kind, bound, used in (("daily", eff.daily, used_day), ("monthly", eff.monthly, used_month)):
        left = remaining(bound.limit_minor, used)
        if attempt.amount_minor > left:
            raise _refuse(kind, bound, left, attempt)


def evaluate(
    attempt: Attempt, *, switches: Switches, bank: BankLimits, own: OwnLimits | None, when: Periods,
    used_day: int, used_month: int,
) -> Effective:
    """Judge a payment in the documented order; return the effective limits if it may go ahead."""
    check_switches(switches, attempt, when)
    eff = effective(bank, own)
    check_per_transaction(eff, attempt)
    check_periods(eff, attempt, used_day=used_day, used_month=used_month)
    return eff


# --- arguments from other domains (the edge validates its own input; these guard service callers) ------


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValidationFailed(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    return channel


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValidationFailed(f"unknown payment method {method!r}; one of {', '.join(METHODS)}")
    return method


def check_currency(currency: str) -> str:
    if currency not in CURRENCY_EXPONENT:
        raise ValidationFailed(f"unsupported currency {currency!r}")
    return currency


def check_amount(amount_minor: int) -> int:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise ValidationFailed("amount_minor must be an integer of minor units")
    if not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        raise ValidationFailed(f"amount_minor must be between 1 and {MAX_AMOUNT_MINOR}")
    return amount_minor


# --- changing limits --------------------------------------------------------------------------------------


def _check_range(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_AMOUNT_MINOR:
        raise InvalidLimit(f"{name} must be between 0 and {MAX_AMOUNT_MINOR} minor units")


def validate_bank(limits: BankLimits) -> None:
    for f in fields(BankLimits):
        _check_range(f.name, getattr(limits, f.name))
    if not limits.per_transaction_minor <= limits.daily_minor <= limits.monthly_minor:
        raise InvalidLimit("a bank limit must satisfy per transaction ≤ daily ≤ monthly")


def validate_own(own: OwnLimits, cap: BankLimits) -> None:
    """The customer's limits must be consistent and never above the bank's (`cap`: the highest bank limit
    of any channel — a lower own limit applies everywhere; a higher one could never take effect)."""
    _check_range("per_transaction_minor", own.per_transaction_minor)
    _check_range("daily_minor", own.daily_minor)
    if (
        own.per_transaction_minor is not None
        and own.daily_minor is not None
        and own.per_transaction_minor > own.daily_minor
    ):
        raise InvalidLimit("the per-transaction limit cannot be above the daily limit")
    for name, value, bank in (
        ("per_transaction", own.per_transaction_minor, cap.per_transaction_minor),
        ("daily", own.daily_minor, cap.daily_minor),
    ):
        if value is not None and value > bank:
            raise OwnLimitAboveBankLimit(
                f"your {name.replace('_', '-')} limit cannot be above the bank's {bank} minor units",
                limit=name, bank_limit_minor=bank,
            )


def _looser(old: int | None, new: int | None) -> bool:
    if new is None:  # back to the bank's limit
        return old is not None
    return old is not None and new > old


def is_raise(old: OwnLimits | None, new: OwnLimits) -> bool:
    """True when any own limit goes up (or back to the bank's): the identity issue's step-up trigger."""
    old = old or OwnLimits()
    return _looser(old.per_transaction_minor, new.per_transaction_minor) or _looser(
        old.daily_minor, new.daily_minor
    )


def loosens(old: Switches, new: Switches) -> bool:
    """True when any switch goes from off to on (allowing more kinds of payment)."""
    return any(getattr(new, n) and not getattr(old, n) for n in SWITCH_NAMES)


def cap_of(limits: list[BankLimits]) -> BankLimits:
    """The highest bank limit of each kind across channels (zero when the bank offers nothing)."""
    if not limits:
        return BankLimits(0, 0, 0)
    return BankLimits(
        max(b.per_transaction_minor for b in limits),
        max(b.daily_minor for b in limits),
        max(b.monthly_minor for b in limits),
    )


# --- the bank's default limits ----------------------------------------------------------------------------
#
# In major units (yuan, dollars): (per transaction, daily, monthly). Modelled on what large Chinese retail
# banks publish for mobile banking with a device-bound certificate: 50,000 / 200,000 a day for transfers,
# QR ("scan to pay") at small-payment levels. Own transfers move money between the customer's own accounts
# and carry no fraud risk, so their limits are only an upper guard. The open API gets less than the app;
# the branch (in person, ID checked) more. QR payment is not offered at a branch or as a scheduled order
# (0). USD limits are a tenth of CNY's (foreign-currency retail payments are fewer and smaller). A currency
# without rows and without defaults has no limits configured, which reads as 0: nothing may be paid.

_OWN = (10_000_000, 50_000_000, 500_000_000)
_DEFAULTS_MAJOR: dict[str, dict[str, dict[str, tuple[int, int, int]]]] = {
    "CNY": {
        "own_transfer": {c: _OWN for c in CHANNELS},
        "internal_transfer": {
            "mobile": (50_000, 200_000, 1_000_000),
            "web": (50_000, 200_000, 1_000_000),
            "api": (20_000, 100_000, 500_000),
            "branch": (1_000_000, 5_000_000, 20_000_000),
            "scheduled": (50_000, 200_000, 1_000_000),
        },
        "interbank_transfer": {
            "mobile": (50_000, 200_000, 1_000_000),
            "web": (50_000, 200_000, 1_000_000),
            "api": (20_000, 100_000, 500_000),
            "branch": (1_000_000, 5_000_000, 20_000_000),
            "scheduled": (50_000, 200_000, 1_000_000),
        },
        "qr_payment": {
            "mobile": (5_000, 20_000, 100_000),
            "web": (5_000, 20_000, 100_000),
            "api": (2_000, 10_000, 50_000),
            "branch": (0, 0, 0),
            "scheduled": (0, 0, 0),
        },
    },
    "USD": {
        "own_transfer": {c: (1_000_000, 5_000_000, 50_000_000) for c in CHANNELS},
        "internal_transfer": {
            "mobile": (5_000, 20_000, 100_000),
            "web": (5_000, 20_000, 100_000),
            "api": (2_000, 10_000, 50_000),
            "branch": (100_000, 500_000, 2_000_000),
            "scheduled": (5_000, 20_000, 100_000),
        },
        "interbank_transfer": {
            "mobile": (5_000, 20_000, 100_000),
            "web": (5_000, 20_000, 100_000),
            "api": (2_000, 10_000, 50_000),
            "branch": (100_000, 500_000, 2_000_000),
            "scheduled": (5_000, 20_000, 100_000),
        },
        "qr_payment": {
            "mobile": (500, 2_000, 10_000),
            "web": (500, 2_000, 10_000),
            "api": (200, 1_000, 5_000),
            "branch": (0, 0, 0),
            "scheduled": (0, 0, 0),
        },
    },
}


def _to_minor(values: tuple[int, int, int], currency: str) -> BankLimits:
    scale = 10 ** exponent(currency)
    return BankLimits(*(v * scale for v in values))


DEFAULT_BANK_LIMITS: dict[tuple[str, str, str], BankLimits] = {
    (channel, method, currency): _to_minor(values, currency)
    for currency, by_method in _DEFAULTS_MAJOR.items()
    for method, by_channel in by_method.items()
    for channel, values in by_channel.items()
}
