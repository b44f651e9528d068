"""Paying QR codes: money reaches the merchant's settlement account through the payments core, a
fixed-amount code is paid once, and every refusal leaves nothing behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from atrium.kit.errors import AtriumError, IdempotencyConflict
from atrium.limits import service as limits
from atrium.limits.errors import LimitExceeded, PaymentSwitchOff
from atrium.payments.errors import CurrencyMismatch, InsufficientFunds
from atrium.payments.merchants import service as merchants
from atrium.payments.qr import service as qr
from atrium.payments.qr.errors import (
    QrAlreadyPaid,
    QrAmountMismatch,
    QrAmountRequired,
    QrBadSignature,
    QrExpired,
)
from atrium.payments.qr.models import QrPayment
from tests.payments import factories as f
from tests.payments.qr.conftest import issue, retamper


def pay(
    db,
    customer: str,
    account_id: str,
    payload: str,
    key: str,
    amount: int | None = None,  # type: ignore[no-untyped-def]
    channel: str = "mobile",
):
    with db.unit_of_work() as s:
        return qr.pay_qr(
            s,
            customer_id=customer,
            idempotency_key=key,
            from_account_id=account_id,
            payload=payload,
            amount_minor=amount,
            channel=channel,
        )


def merchant_booked(db, merchant_id: str) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return merchants.merchant_balance(s, merchant_id)[0].booked_minor


def qr_payments(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(QrPayment)) or 0


def test_paying_a_fixed_amount_code_moves_the_money_to_the_merchant(db, world, shop) -> None:
    t = pay(db, world.alice, world.alice_cny.id, issue(db, shop.id, amount=1_250), "qr-pay-0001")
    assert (t.kind, t.status, t.amount_minor, t.channel) == ("qr", "completed", 1_250, "mobile")
    assert (t.to.type, t.to.display) == ("merchant", "Corner Grocer") and t.memo == "Corner Grocer order-1"
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (98_750, 98_750)
    assert merchant_booked(db, shop.id) == 1_250
    assert [e["kind"] for e in f.events(db, "TransferCompleted")] == ["qr"]
    (event,) = f.events(db, "QrPaymentCompleted")
    assert (event["merchant_id"], event["category"], event["amount_minor"], event["reference"]) == (
        shop.id,
        "groceries",
        1_250,
        "order-1",
    )
    with db.session() as s:
        usage = limits.usage(s, world.alice, channel="mobile", currency="CNY")
        assert next(u.daily_used_minor for u in usage if u.method == "qr_payment") == 1_250
    assert f.ledger_ok(db)


def test_a_paid_fixed_amount_code_cannot_be_paid_again_but_its_request_replays(db, world, shop) -> None:
    payload = issue(db, shop.id, amount=2_000)
    first = pay(db, world.alice, world.alice_cny.id, payload, "qr-once-0001")
    assert pay(db, world.alice, world.alice_cny.id, payload, "qr-once-0001") == first
    with pytest.raises(QrAlreadyPaid) as caught:
        pay(db, world.alice, world.alice_cny.id, payload, "qr-once-0002")
    assert caught.value.status == 409
    with db.unit_of_work() as s:
        f.fund(s, world.bob_cny, 10_000)
    with pytest.raises(QrAlreadyPaid):
        pay(db, world.bob, world.bob_cny.id, payload, "qr-once-0003")
    # A new code for the same order reference is the same order: still paid.
    with pytest.raises(QrAlreadyPaid):
        pay(db, world.alice, world.alice_cny.id, issue(db, shop.id, amount=2_000), "qr-once-0004")
    with db.session() as s:
        assert qr.parse_qr(s, payload).already_paid
    assert merchant_booked(db, shop.id) == 2_000 and qr_payments(db) == 1
    assert f.ledger_ok(db)


def test_the_same_key_with_another_request_is_a_conflict(db, world, shop) -> None:
    pay(db, world.alice, world.alice_cny.id, issue(db, shop.id, reference="a"), "qr-conflict-01")
    with pytest.raises(IdempotencyConflict):
        pay(db, world.alice, world.alice_cny.id, issue(db, shop.id, reference="b"), "qr-conflict-01")
    assert merchant_booked(db, shop.id) == 1_250


def test_a_retry_after_the_code_expired_still_replays_the_payment(db, world, shop, frozen) -> None:
    payload = issue(db, shop.id, ttl=timedelta(minutes=1))
    first = pay(db, world.alice, world.alice_cny.id, payload, "qr-late-0001")
    frozen.set(f.NOON + timedelta(hours=1))
    assert pay(db, world.alice, world.alice_cny.id, payload, "qr-late-0001") == first
    with pytest.raises(QrExpired):
        pay(db, world.alice, world.alice_cny.id, payload, "qr-late-0002")


def test_an_open_amount_code_takes_the_customers_amount_and_many_payers(db, world, shop) -> None:
    payload = issue(db, shop.id, amount=None, reference="stall-7", ttl=timedelta(days=30))
    with pytest.raises(QrAmountRequired):
        pay(db, world.alice, world.alice_cny.id, payload, "qr-open-0001")
    assert pay(db, world.alice, world.alice_cny.id, payload, "qr-open-0002", amount=700).amount_minor == 700
    assert pay(db, world.alice, world.alice_cny.id, payload, "qr-open-0003", amount=300).amount_minor == 300
    assert merchant_booked(db, shop.id) == 1_000 and qr_payments(db) == 2
    assert f.ledger_ok(db)


def test_a_fixed_amount_code_refuses_another_amount(db, world, shop) -> None:
    payload = issue(db, shop.id, amount=1_250)
    with pytest.raises(QrAmountMismatch):
        pay(db, world.alice, world.alice_cny.id, payload, "qr-amt-0001", amount=1)
    assert (
        pay(db, world.alice, world.alice_cny.id, payload, "qr-amt-0002", amount=1_250).amount_minor == 1_250
    )


@pytest.mark.parametrize("change", [{"a": 1}, {"a": None}, {"m": "mer_OTHER"}])
def test_a_tampered_code_moves_nothing(db, world, shop, change) -> None:
    before = f.snapshot(db, world.ids())
    with pytest.raises(QrBadSignature):
        pay(
            db,
            world.alice,
            world.alice_cny.id,
            retamper(issue(db, shop.id), **change),
            "qr-tamper-01",
            amount=1,
        )
    assert (
        f.snapshot(db, world.ids()) == before and qr_payments(db) == 0 and merchant_booked(db, shop.id) == 0
    )
    assert f.ledger_ok(db)


def _refused(db, world, shop, error, payload: str, account_id: str | None = None, **kw) -> None:  # type: ignore[no-untyped-def]
    before = f.snapshot(db, world.ids())
    with pytest.raises(error) as caught:
        pay(db, world.alice, account_id or world.alice_cny.id, payload, "qr-refused-01", **kw)
    assert caught.value.status == 422
    assert (
        f.snapshot(db, world.ids()) == before and qr_payments(db) == 0 and merchant_booked(db, shop.id) == 0
    )
    assert f.ledger_ok(db)


def test_the_qr_switch_off_refuses_and_the_code_stays_payable(db, world, shop) -> None:
    payload = issue(db, shop.id)
    with db.unit_of_work() as s:
        limits.set_switches(s, customer_id=world.alice, changes={"qr_payments": False})
    _refused(db, world, shop, PaymentSwitchOff, payload)
    with db.unit_of_work() as s:
        limits.set_switches(s, customer_id=world.alice, changes={"qr_payments": True})
    assert pay(db, world.alice, world.alice_cny.id, payload, "qr-switch-01").status == "completed"


def test_limits_funds_and_currency_refusals_leave_nothing(db, world, shop) -> None:
    _refused(
        db, world, shop, LimitExceeded, issue(db, shop.id, amount=300_000, reference="big"), channel="api"
    )
    _refused(db, world, shop, InsufficientFunds, issue(db, shop.id, amount=150_000, reference="much"))
    _refused(db, world, shop, CurrencyMismatch, issue(db, shop.id), account_id=world.alice_usd.id)


def test_paying_from_someone_elses_account_is_not_found(db, world, shop) -> None:
    with pytest.raises(AtriumError) as caught:
        pay(db, world.alice, world.bob_cny.id, issue(db, shop.id), "qr-idor-0001")
    assert caught.value.status == 404


def test_two_customers_paying_one_code_at_once_pay_it_once(db, world, shop) -> None:
    with db.unit_of_work() as s:
        f.fund(s, world.bob_cny, 10_000)
    payload = issue(db, shop.id, amount=5_000)
    payers = [(world.alice, world.alice_cny.id), (world.bob, world.bob_cny.id)] * 2
    barrier = threading.Barrier(len(payers))

    def attempt(i: int) -> str:
        barrier.wait()
        customer, account = payers[i]
        try:
            pay(db, customer, account, payload, f"qr-race-{i:04}")
            return "paid"
        except QrAlreadyPaid:
            return "409"

    with ThreadPoolExecutor(len(payers)) as pool:
        results = list(pool.map(attempt, range(len(payers))))
    assert sorted(results) == ["409", "409", "409", "paid"], results
    assert merchant_booked(db, shop.id) == 5_000 and qr_payments(db) == 1
    assert f.ledger_ok(db)
