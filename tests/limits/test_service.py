"""Limits use cases on a real database (SQLite by default, PostgreSQL with ATRIUM_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from atrium.events.models import OutboxEvent
from atrium.kit.errors import ValidationFailed
from atrium.limits import service
from atrium.limits.errors import (
    InvalidLimit,
    LimitExceeded,
    NotAllowedToManageLimits,
    OwnLimitAboveBankLimit,
    PaymentSwitchOff,
)
from atrium.limits.models import BankLimit, LimitChange, UsageCounter
from tests.limits.factories import NOON, customer, staff, yuan


def reserve(session, cus: str, amount: int, *, at: datetime = NOON, method: str = "internal_transfer",
            channel: str = "mobile", currency: str = "CNY", **kw) -> None:  # type: ignore[no-untyped-def]
    service.check_and_reserve(session, customer_id=cus, channel=channel, method=method, amount_minor=amount,
                              currency=currency, at=at, **kw)


def used(session, cus: str, kind: str, key: str, method: str = "internal_transfer") -> int | None:  # type: ignore[no-untyped-def]
    return session.scalar(select(UsageCounter.used_minor).where(
        UsageCounter.customer_id == cus, UsageCounter.method == method, UsageCounter.currency == "CNY",
        UsageCounter.period_kind == kind, UsageCounter.period_key == key))


# --- limits -----------------------------------------------------------------------------------------------


def test_a_payment_within_limits_is_counted_for_the_day_and_the_month(session) -> None:
    cus = customer(session)
    reserve(session, cus, yuan(1_200))
    reserve(session, cus, yuan(800))
    assert used(session, cus, "day", "2024-05-15") == yuan(2_000)
    assert used(session, cus, "month", "2024-05") == yuan(2_000)


def test_per_transaction_limit_of_the_bank(session) -> None:
    cus = customer(session)
    with pytest.raises(LimitExceeded) as exc:
        reserve(session, cus, yuan(50_000) + 1)
    assert (exc.value.limit, exc.value.scope) == ("per_transaction", "bank")
    assert exc.value.remaining_minor == yuan(50_000)
    assert used(session, cus, "day", "2024-05-15") is None  # refused before any counter was touched


def test_own_per_transaction_limit_is_lower_and_named(session) -> None:
    cus = customer(session)
    service.set_own_limit(session, customer_id=cus, method="internal_transfer",
                          per_transaction_minor=yuan(1_000), daily_minor=None)
    reserve(session, cus, yuan(1_000))
    with pytest.raises(LimitExceeded) as exc:
        reserve(session, cus, yuan(1_000) + 1)
    assert (exc.value.limit, exc.value.scope) == ("per_transaction", "customer")


def test_daily_limit_and_what_remains(session) -> None:
    cus = customer(session)
    for _ in range(3):
        reserve(session, cus, yuan(50_000))
    reserve(session, cus, yuan(49_999))
    with pytest.raises(LimitExceeded) as exc:
        reserve(session, cus, yuan(2))
    assert (exc.value.limit, exc.value.remaining_minor) == ("daily", yuan(1))
    reserve(session, cus, yuan(1))
    assert used(session, cus, "day", "2024-05-15") == yuan(200_000)


def test_the_day_turns_at_midnight_shanghai(session) -> None:
    cus = customer(session)
    last_second = datetime(2024, 5, 15, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    for _ in range(4):
        reserve(session, cus, yuan(50_000), at=last_second)
    with pytest.raises(LimitExceeded):
        reserve(session, cus, yuan(1), at=last_second)
    reserve(session, cus, yuan(50_000), at=last_second + timedelta(seconds=1))  # 00:00:00, 16 May
    assert used(session, cus, "day", "2024-05-16") == yuan(50_000)
    assert used(session, cus, "month", "2024-05") == yuan(250_000)


def test_monthly_limit_and_the_month_turning_at_midnight_shanghai(session) -> None:
    cus = customer(session)
    days = [datetime(2024, 5, d, 4, 0, tzinfo=UTC) for d in range(26, 31)]
    for day in days:  # 5 × 200,000 = the 1,000,000 monthly limit
        for _ in range(4):
            reserve(session, cus, yuan(50_000), at=day)
    may_31_late = datetime(2024, 5, 31, 15, 59, tzinfo=UTC)
    with pytest.raises(LimitExceeded) as exc:
        reserve(session, cus, yuan(1), at=may_31_late)
    assert (exc.value.limit, exc.value.remaining_minor) == ("monthly", 0)
    reserve(session, cus, yuan(50_000), at=datetime(2024, 5, 31, 16, 0, tzinfo=UTC))  # 1 June in Shanghai
    assert used(session, cus, "month", "2024-06") == yuan(50_000)


def test_methods_and_currencies_count_separately(session) -> None:
    cus = customer(session)
    for _ in range(4):
        reserve(session, cus, yuan(50_000))
    reserve(session, cus, yuan(50_000), method="interbank_transfer")
    reserve(session, cus, 500_000, currency="USD")  # 5,000 dollars: the USD mobile per-transaction limit


def test_a_method_the_bank_does_not_offer_on_a_channel_has_zero_limits(session) -> None:
    cus = customer(session)
    with pytest.raises(LimitExceeded) as exc:
        reserve(session, cus, 100, method="qr_payment", channel="branch")
    assert exc.value.remaining_minor == 0
    with pytest.raises(LimitExceeded):
        reserve(session, cus, 100, currency="EUR")  # no EUR limits configured


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"channel": "fax"}, "channel"), ({"method": "cheque"}, "method"), ({"currency": "XYZ"}, "currency")],
)
def test_unknown_arguments_are_validation_errors(session, kw: dict, message: str) -> None:
    cus = customer(session)
    with pytest.raises(ValidationFailed, match=message):
        reserve(session, cus, 100, **kw)


@pytest.mark.parametrize("amount", [0, -5, 10**15 + 1, True])
def test_amount_must_be_positive_minor_units(session, amount: int) -> None:
    cus = customer(session)
    with pytest.raises(ValidationFailed):
        reserve(session, cus, amount)


# --- switches ---------------------------------------------------------------------------------------------


def test_night_time_switch(session) -> None:
    cus = customer(session)
    night = datetime(2024, 5, 14, 17, 0, tzinfo=UTC)  # 01:00 in Shanghai
    reserve(session, cus, 100, at=night)  # on by default
    change = service.set_switches(session, customer_id=cus, changes={"night_time": False})
    assert change.changed == ["night_time"] and change.loosened is False
    with pytest.raises(PaymentSwitchOff) as exc:
        reserve(session, cus, 100, at=night)
    assert exc.value.switch == "night_time" and exc.value.status == 422
    reserve(session, cus, 100, at=night, method="own_transfer")  # own transfers are not payments out
    reserve(session, cus, 100, at=datetime(2024, 5, 14, 22, 0, tzinfo=UTC))  # 06:00: day again


def test_online_payments_switch_spares_the_branch(session) -> None:
    cus = customer(session)
    service.set_switches(session, customer_id=cus, changes={"online_payments": False})
    for channel in ("mobile", "web", "api"):
        with pytest.raises(PaymentSwitchOff, match="online_payments"):
            reserve(session, cus, 100, channel=channel)
    reserve(session, cus, 100, channel="branch")


def test_overseas_is_off_until_the_customer_turns_it_on(session) -> None:
    cus = customer(session)
    with pytest.raises(PaymentSwitchOff, match="overseas"):
        reserve(session, cus, 100, overseas=True)
    change = service.set_switches(session, customer_id=cus, changes={"overseas": True})
    assert change.loosened is True and change.switches.overseas is True
    reserve(session, cus, 100, overseas=True)


def test_qr_and_card_not_present_switches(session) -> None:
    cus = customer(session)
    service.set_switches(session, customer_id=cus, changes={"qr_payments": False, "card_not_present": False})
    with pytest.raises(PaymentSwitchOff, match="qr_payments"):
        reserve(session, cus, 100, method="qr_payment")
    with pytest.raises(PaymentSwitchOff, match="card_not_present"):
        reserve(session, cus, 100, card_not_present=True)
    reserve(session, cus, 100)


def test_switch_changes_are_audited_and_announced(session) -> None:
    cus = customer(session)
    service.set_switches(session, customer_id=cus, changes={"overseas": True, "night_time": False})
    again = service.set_switches(session, customer_id=cus, changes={"overseas": True})
    assert again.changed == [] and again.loosened is False
    rows = session.scalars(select(LimitChange).where(LimitChange.customer_id == cus)).all()
    assert sorted((r.setting, r.old_value["on"], r.new_value["on"]) for r in rows) == [
        ("switch:night_time", True, False), ("switch:overseas", False, True)]
    assert all(r.actor_kind == "customer" and r.actor_id == cus for r in rows)
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "PaymentLimitChanged")).all()
    assert sorted(e.payload["setting"] for e in events) == ["switch:night_time", "switch:overseas"]
    assert service.get_switches(session, cus).overseas is True


@pytest.mark.parametrize("changes", [{"teleport": True}, {"overseas": "yes"}])
def test_bad_switch_changes_are_refused(session, changes: dict) -> None:
    cus = customer(session)
    with pytest.raises(ValidationFailed):
        service.set_switches(session, customer_id=cus, changes=changes)


# --- own limits ---------------------------------------------------------------------------------------------


def test_own_limit_above_the_bank_limit_is_refused_and_nothing_is_written(session) -> None:
    cus = customer(session)
    with pytest.raises(OwnLimitAboveBankLimit):
        # The highest bank daily limit for CNY internal transfers is the branch's 5,000,000.
        service.set_own_limit(session, customer_id=cus, method="internal_transfer",
                              per_transaction_minor=None, daily_minor=yuan(5_000_000) + 1)
    with pytest.raises(InvalidLimit):
        service.set_own_limit(session, customer_id=cus, method="qr_payment",
                              per_transaction_minor=yuan(3_000), daily_minor=yuan(2_000))
    assert session.scalar(select(func.count()).select_from(LimitChange)) == 0
    assert service.get_own_limits(session, cus) == []


def test_own_limit_changes_say_whether_they_raise(session) -> None:
    cus = customer(session)
    kw = {"customer_id": cus, "method": "interbank_transfer"}
    first = service.set_own_limit(session, **kw, per_transaction_minor=yuan(2_000), daily_minor=yuan(5_000))
    assert (first.changed, first.raised) == (True, False)
    up = service.set_own_limit(session, **kw, per_transaction_minor=yuan(3_000), daily_minor=yuan(5_000))
    assert up.raised is True
    same = service.set_own_limit(session, **kw, per_transaction_minor=yuan(3_000), daily_minor=yuan(5_000))
    assert (same.changed, same.raised) == (False, False)
    rows = session.scalars(select(LimitChange).order_by(LimitChange.id)).all()
    assert [(r.setting, r.old_value, r.new_value["per_transaction_minor"]) for r in rows] == [
        ("own:interbank_transfer:CNY", None, yuan(2_000)),
        ("own:interbank_transfer:CNY", {"per_transaction_minor": yuan(2_000), "daily_minor": yuan(5_000)},
         yuan(3_000)),
    ]
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 2


def test_own_daily_limit_binds_the_payments(session) -> None:
    cus = customer(session)
    service.set_own_limit(session, customer_id=cus, method="internal_transfer", per_transaction_minor=None,
                          daily_minor=yuan(10_000))
    reserve(session, cus, yuan(9_000))
    with pytest.raises(LimitExceeded) as exc:
        reserve(session, cus, yuan(1_001))
    assert (exc.value.limit, exc.value.scope, exc.value.remaining_minor) == ("daily", "customer", yuan(1_000))


# --- release ----------------------------------------------------------------------------------------------


def test_release_gives_the_amount_back_to_the_day_it_was_reserved(session) -> None:
    cus = customer(session)
    for _ in range(4):
        reserve(session, cus, yuan(50_000))
    with pytest.raises(LimitExceeded):
        reserve(session, cus, yuan(1))
    service.release(session, customer_id=cus, method="internal_transfer", amount_minor=yuan(50_000),
                    currency="CNY", at=NOON)
    assert used(session, cus, "day", "2024-05-15") == yuan(150_000)
    assert used(session, cus, "month", "2024-05") == yuan(150_000)
    reserve(session, cus, yuan(50_000))


def test_release_never_goes_below_zero_and_ignores_untouched_periods(session) -> None:
    cus = customer(session)
    reserve(session, cus, yuan(100))
    service.release(session, customer_id=cus, method="internal_transfer", amount_minor=yuan(500),
                    currency="CNY", at=NOON)
    assert used(session, cus, "day", "2024-05-15") == 0
    service.release(session, customer_id=cus, method="internal_transfer", amount_minor=yuan(500),
                    currency="CNY", at=NOON - timedelta(days=40))
    assert session.scalar(select(func.count()).select_from(UsageCounter)) == 2


# --- bank limits ------------------------------------------------------------------------------------------


def test_ensure_default_bank_limits_is_idempotent_and_keeps_staff_changes(session) -> None:
    added = service.ensure_default_bank_limits(session)
    assert added == 2 * 5 * 4  # CNY and USD × channels × methods
    stf = staff(session)
    service.set_bank_limit(session, staff_id=stf, staff_role="operator", channel="mobile",
                           method="qr_payment", currency="CNY", per_transaction_minor=yuan(1_000),
                           daily_minor=yuan(3_000), monthly_minor=yuan(10_000))
    assert service.ensure_default_bank_limits(session) == 0
    row = session.get(BankLimit, ("mobile", "qr_payment", "CNY"))
    assert row is not None and row.per_transaction_minor == yuan(1_000) and row.updated_by == stf


def test_staff_change_to_a_bank_limit_applies_and_is_audited(session) -> None:
    cus, stf = customer(session), staff(session, role="administrator")
    service.set_bank_limit(session, staff_id=stf, staff_role="administrator", channel="mobile",
                           method="internal_transfer", currency="CNY", per_transaction_minor=yuan(100),
                           daily_minor=yuan(200), monthly_minor=yuan(300))
    with pytest.raises(LimitExceeded):
        reserve(session, cus, yuan(101))
    reserve(session, cus, yuan(100), channel="web")  # other channels keep their limits
    change = session.scalars(select(LimitChange)).one()
    assert change.setting == "bank:mobile:internal_transfer:CNY" and change.actor_id == stf
    assert change.old_value == {"per_transaction_minor": yuan(50_000), "daily_minor": yuan(200_000),
                                "monthly_minor": yuan(1_000_000)}
    assert change.customer_id is None


def test_confirming_a_default_bank_limit_stores_it_unchanged(session) -> None:
    cus, stf = customer(session), staff(session)
    service.set_bank_limit(session, staff_id=stf, staff_role="operator", channel="web",
                           method="own_transfer", currency="CNY", per_transaction_minor=yuan(10_000_000),
                           daily_minor=yuan(50_000_000), monthly_minor=yuan(500_000_000))
    row = session.get(BankLimit, ("web", "own_transfer", "CNY"))
    assert row is not None and row.daily_minor == yuan(50_000_000)
    assert session.scalar(select(func.count()).select_from(LimitChange)) == 0  # nothing changed
    reserve(session, cus, yuan(1_000_000), channel="web", method="own_transfer")


def test_only_operators_and_administrators_change_bank_limits(session) -> None:
    stf = staff(session, role="account_manager")
    with pytest.raises(NotAllowedToManageLimits):
        service.set_bank_limit(session, staff_id=stf, staff_role="account_manager", channel="mobile",
                               method="qr_payment", currency="CNY", per_transaction_minor=1, daily_minor=1,
                               monthly_minor=1)
    with pytest.raises(InvalidLimit):
        service.set_bank_limit(session, staff_id=stf, staff_role="operator", channel="mobile",
                               method="qr_payment", currency="CNY", per_transaction_minor=5, daily_minor=1,
                               monthly_minor=1)


def test_a_new_currency_can_be_configured_by_staff(session) -> None:
    cus, stf = customer(session), staff(session)
    service.set_bank_limit(session, staff_id=stf, staff_role="operator", channel="mobile",
                           method="internal_transfer", currency="HKD", per_transaction_minor=1_000,
                           daily_minor=2_000, monthly_minor=5_000)
    reserve(session, cus, 1_000, currency="HKD")
    listed = service.list_bank_limits(session, channel="mobile", currency="HKD")
    assert [(b.method, b.currency) for b in listed] == [("internal_transfer", "HKD")]


# --- usage page -------------------------------------------------------------------------------------------


def test_usage_shows_limit_used_and_remaining_per_method(session) -> None:
    cus = customer(session)
    service.set_own_limit(session, customer_id=cus, method="qr_payment", per_transaction_minor=None,
                          daily_minor=yuan(1_000))
    reserve(session, cus, yuan(30_000))
    reserve(session, cus, yuan(400), method="qr_payment")
    lines = {(u.method, u.currency): u for u in service.usage(session, cus, at=NOON)}
    assert len(lines) == 8
    internal = lines[("internal_transfer", "CNY")]
    assert (internal.daily_limit_minor, internal.daily_used_minor, internal.daily_remaining_minor) == (
        yuan(200_000), yuan(30_000), yuan(170_000))
    assert internal.monthly_remaining_minor == yuan(970_000)
    qr = lines[("qr_payment", "CNY")]
    assert (qr.daily_scope, qr.daily_limit_minor) == ("customer", yuan(1_000))
    assert qr.daily_remaining_minor == yuan(600)
    tomorrow = {(u.method, u.currency): u for u in service.usage(session, cus, at=NOON + timedelta(days=1))}
    assert tomorrow[("internal_transfer", "CNY")].daily_used_minor == 0
    assert tomorrow[("internal_transfer", "CNY")].monthly_used_minor == yuan(30_000)
