"""Pure rules: evaluation order, effective limits and remaining amounts, Shanghai periods, switch scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.limits import domain
from atrium.limits.domain import Attempt, BankLimits, OwnLimits, Switches
from atrium.limits.errors import InvalidLimit, LimitExceeded, OwnLimitAboveBankLimit, PaymentSwitchOff

BANK = BankLimits(per_transaction_minor=5_000, daily_minor=20_000, monthly_minor=100_000)
NOON = domain.periods(datetime(2024, 5, 15, 4, 0, tzinfo=UTC))
NIGHT = domain.periods(datetime(2024, 5, 14, 17, 30, tzinfo=UTC))  # 01:30 in Shanghai


def attempt(amount: int, **kw: object) -> Attempt:
    base: dict[str, object] = {"channel": "mobile", "method": "internal_transfer", "currency": "CNY"}
    return Attempt(amount_minor=amount, **(base | kw))  # type: ignore[arg-type]


def judge(a: Attempt, *, switches: Switches = Switches(), own: OwnLimits | None = None,
          used_day: int = 0, used_month: int = 0, when: domain.Periods = NOON) -> domain.Effective:
    return domain.evaluate(a, switches=switches, bank=BANK, own=own, when=when,
                           used_day=used_day, used_month=used_month)


# --- periods --------------------------------------------------------------------------------------------


def test_day_and_month_turn_at_midnight_in_shanghai_not_utc() -> None:
    before = domain.periods(datetime(2024, 5, 31, 15, 59, 59, tzinfo=UTC))
    after = domain.periods(datetime(2024, 5, 31, 16, 0, 0, tzinfo=UTC))
    assert (before.day_key, before.month_key) == ("2024-05-31", "2024-05")
    assert (after.day_key, after.month_key) == ("2024-06-01", "2024-06")


@pytest.mark.parametrize(
    ("utc", "night"),
    [((16, 0), True), ((21, 59), True), ((22, 0), False), ((15, 59), False), ((4, 0), False)],
)
def test_night_is_midnight_to_six_china_time(utc: tuple[int, int], night: bool) -> None:
    assert domain.periods(datetime(2024, 5, 14, *utc, tzinfo=UTC)).is_night is night


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        domain.periods(datetime(2024, 5, 14, 12, 0))  # noqa: DTZ001 - the point of the test


# --- effective limits and remaining ---------------------------------------------------------------------


def test_effective_takes_the_lower_of_bank_and_own_and_names_whose_it_is() -> None:
    eff = domain.effective(BANK, OwnLimits(per_transaction_minor=1_000, daily_minor=None))
    assert eff.per_transaction == domain.Bound(1_000, "customer")
    assert eff.daily == domain.Bound(20_000, "bank")
    assert eff.monthly == domain.Bound(100_000, "bank")


def test_an_own_limit_equal_to_the_banks_is_reported_as_the_banks() -> None:
    assert domain.effective(BANK, OwnLimits(5_000, 20_000)).per_transaction.scope == "bank"


def test_an_own_limit_above_the_banks_never_loosens_it() -> None:
    assert domain.effective(BANK, OwnLimits(9_000, 90_000)).daily == domain.Bound(20_000, "bank")


@pytest.mark.parametrize(("limit", "used", "left"), [(100, 30, 70), (100, 100, 0), (100, 130, 0), (0, 0, 0)])
def test_remaining_never_goes_negative(limit: int, used: int, left: int) -> None:
    assert domain.remaining(limit, used) == left


# --- evaluation order -----------------------------------------------------------------------------------


def test_a_switch_is_checked_before_any_limit() -> None:
    with pytest.raises(PaymentSwitchOff) as exc:
        judge(attempt(999_999), switches=Switches(online_payments=False), used_day=20_000)
    assert exc.value.switch == "online_payments"


def test_per_transaction_is_checked_before_daily() -> None:
    with pytest.raises(LimitExceeded) as exc:
        judge(attempt(6_000), used_day=20_000, used_month=100_000)
    assert (exc.value.limit, exc.value.remaining_minor, exc.value.scope) == ("per_transaction", 5_000, "bank")


def test_daily_is_checked_before_monthly() -> None:
    with pytest.raises(LimitExceeded) as exc:
        judge(attempt(1_000), used_day=19_500, used_month=100_000)
    assert (exc.value.limit, exc.value.remaining_minor) == ("daily", 500)


def test_monthly_refuses_when_the_day_still_has_room() -> None:
    with pytest.raises(LimitExceeded) as exc:
        judge(attempt(1_000), used_day=0, used_month=99_500)
    assert (exc.value.limit, exc.value.remaining_minor, exc.value.scope) == ("monthly", 500, "bank")


def test_exactly_the_remaining_amount_passes_and_one_minor_unit_more_does_not() -> None:
    judge(attempt(500), used_day=19_500)
    with pytest.raises(LimitExceeded):
        judge(attempt(501), used_day=19_500)


def test_own_daily_limit_refusal_names_the_customer_scope() -> None:
    with pytest.raises(LimitExceeded) as exc:
        judge(attempt(3_000), own=OwnLimits(daily_minor=10_000), used_day=8_000)
    assert (exc.value.limit, exc.value.scope, exc.value.remaining_minor) == ("daily", "customer", 2_000)


def test_limit_exceeded_problem_body_names_the_limit() -> None:
    with pytest.raises(LimitExceeded) as exc:
        judge(attempt(3_000, channel="web"), used_day=18_000)
    assert exc.value.status == 422
    assert exc.value.extra == {
        "limit": "daily", "scope": "bank", "method": "internal_transfer", "channel": "web", "currency": "CNY",
        "limit_minor": 20_000, "remaining_minor": 2_000,
    }


# --- which switch governs what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("switches", "kw", "when", "blocked_by"),
    [
        (Switches(online_payments=False), {}, NOON, "online_payments"),
        (Switches(online_payments=False), {"channel": "branch"}, NOON, None),
        (Switches(online_payments=False), {"method": "own_transfer"}, NOON, None),
        (Switches(qr_payments=False), {"method": "qr_payment"}, NOON, "qr_payments"),
        (Switches(qr_payments=False), {}, NOON, None),
        (Switches(), {"overseas": True}, NOON, "overseas"),  # overseas is off by default
        (Switches(overseas=True), {"overseas": True}, NOON, None),
        (Switches(night_time=False), {}, NIGHT, "night_time"),
        (Switches(night_time=False), {}, NOON, None),
        (Switches(night_time=False), {"method": "own_transfer"}, NIGHT, None),
        (Switches(night_time=False), {"channel": "scheduled"}, NIGHT, None),
        (Switches(), {}, NIGHT, None),  # night-time payments are on by default
        (Switches(card_not_present=False), {"card_not_present": True}, NOON, "card_not_present"),
    ],
)
def test_switch_scope(switches: Switches, kw: dict, when: domain.Periods, blocked_by: str | None) -> None:
    assert domain.blocking_switch(switches, attempt(100, **kw), when) == blocked_by


def test_the_first_switch_in_order_is_reported() -> None:
    off = Switches(online_payments=False, qr_payments=False, night_time=False)
    assert domain.blocking_switch(off, attempt(100, method="qr_payment"), NIGHT) == "online_payments"
    at_branch = attempt(100, method="qr_payment", channel="branch")
    assert domain.blocking_switch(off, at_branch, NIGHT) == "qr_payments"


# --- changing limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "raised"),
    [
        (None, OwnLimits(1_000, 5_000), False),  # from the bank's limit down to an own one
        (OwnLimits(1_000, 5_000), OwnLimits(500, 5_000), False),
        (OwnLimits(1_000, 5_000), OwnLimits(1_000, 5_000), False),
        (OwnLimits(1_000, 5_000), OwnLimits(2_000, 5_000), True),
        (OwnLimits(1_000, 5_000), OwnLimits(500, 6_000), True),
        (OwnLimits(1_000, 5_000), OwnLimits(None, 5_000), True),  # back to the bank's: a raise
        (OwnLimits(None, None), OwnLimits(None, None), False),
    ],
)
def test_is_raise(old: OwnLimits | None, new: OwnLimits, raised: bool) -> None:
    assert domain.is_raise(old, new) is raised


def test_loosens_only_when_a_switch_turns_on() -> None:
    assert domain.loosens(Switches(), Switches(overseas=True))
    assert not domain.loosens(Switches(), Switches(night_time=False))
    assert not domain.loosens(Switches(), Switches())


def test_own_limits_above_the_bank_cap_are_refused() -> None:
    with pytest.raises(OwnLimitAboveBankLimit) as exc:
        domain.validate_own(OwnLimits(None, 20_001), BANK)
    assert exc.value.status == 422 and exc.value.extra["limit"] == "daily"
    domain.validate_own(OwnLimits(5_000, 20_000), BANK)


@pytest.mark.parametrize("own", [OwnLimits(3_000, 2_000), OwnLimits(-1, None), OwnLimits(None, 10**16)])
def test_inconsistent_own_limits_are_refused(own: OwnLimits) -> None:
    with pytest.raises(InvalidLimit):
        domain.validate_own(own, BankLimits(10**15, 10**15, 10**15))


@pytest.mark.parametrize("bank", [BankLimits(5, 4, 10), BankLimits(1, 5, 4), BankLimits(-1, 0, 0)])
def test_bank_limits_must_be_ordered(bank: BankLimits) -> None:
    with pytest.raises(InvalidLimit):
        domain.validate_bank(bank)


def test_cap_is_the_highest_bank_limit_of_any_channel() -> None:
    assert domain.cap_of([BankLimits(1, 5, 9), BankLimits(3, 4, 20)]) == BankLimits(3, 5, 20)
    assert domain.cap_of([]) == BankLimits(0, 0, 0)


def test_defaults_cover_every_channel_and_method_and_are_ordered() -> None:
    for currency in ("CNY", "USD"):
        for channel in domain.CHANNELS:
            for method in domain.METHODS:
                domain.validate_bank(domain.DEFAULT_BANK_LIMITS[(channel, method, currency)])
    assert domain.DEFAULT_BANK_LIMITS[("mobile", "internal_transfer", "CNY")] == BankLimits(
        5_000_000, 20_000_000, 100_000_000
    )
    qr = domain.DEFAULT_BANK_LIMITS[("mobile", "qr_payment", "CNY")]
    assert qr == BankLimits(500_000, 2_000_000, 10_000_000)


# --- the invariant ---------------------------------------------------------------------------------------


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=6_000), max_size=60),
    own_daily=st.none() | st.integers(min_value=0, max_value=30_000),
)
def test_accepted_amounts_never_sum_above_the_effective_limits(
    amounts: list[int], own_daily: int | None
) -> None:
    """Over days of a month: each day's accepted total ≤ the effective daily limit, the month's ≤ monthly."""
    own = OwnLimits(daily_minor=own_daily)
    eff = domain.effective(BANK, own)
    used_month = 0
    for day in range(0, len(amounts), 10):
        used_day = 0
        for amount in amounts[day : day + 10]:
            try:
                judge(attempt(amount), own=own, used_day=used_day, used_month=used_month)
            except LimitExceeded as exc:
                assert exc.remaining_minor < amount or exc.limit == "per_transaction"
                continue
            used_day += amount
            used_month += amount
        assert used_day <= eff.daily.limit_minor
    assert used_month <= eff.monthly.limit_minor
