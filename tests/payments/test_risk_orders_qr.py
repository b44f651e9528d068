"""Standing orders and QR payments through the risk decision: an order's occurrence (nobody present) is
held or declined like any payment, a declined one counts as the order's failure; a held QR payment says it
was paid only when released, and a declined or cancelled one leaves the merchant's code payable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.events.relay import relay_once
from atrium.payments.qr import service as qr
from atrium.risk import service as risk
from atrium.risk.schemas import ListEntryCreate
from tests.payments import factories as f
from tests.payments import risk_support as rs
from tests.payments.merchants import factories as mf
from tests.payments.orders import factories as of

pytestmark = pytest.mark.usefixtures("fresh_risk")


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def rich(db, world):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 5_000_000)
    return world


def _to_bob(world) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {"type": "atrium", "account_number": world.bob_cny.number}


def test_an_order_occurrence_held_for_review_is_sent_and_paid_on_release(db, rich) -> None:
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    order = of.create(db, rich.alice, of.body(rich.alice_cny.id, _to_bob(rich), amount_minor=400_000))
    run = of.run(db)
    assert (run.paid, run.failed) == (1, 0)
    [t] = of.transfers(db)
    assert t.status == "held" and t.channel == "scheduled"
    [execution] = of.detail(db, rich.alice, order.id).executions
    assert (execution.status, execution.transfer_id) == ("sent", t.id)
    with db.unit_of_work() as s:
        risk.release_case(s, rs.case_for(db, t.risk_decision_id).id, rs.CHECKER)  # type: ignore[arg-type]
    relay_once(db)
    assert rs.transfer_row(db, t.id).status == "completed"
    with db.read_session() as s:
        assert f.balance(s, rich.bob_cny.id) == (400_000, 400_000)


def test_a_challenged_order_occurrence_is_held_not_paid(db, rich) -> None:
    """The customer is not there to say "yes, it's me": a person looks at it instead."""
    rs.publish_rule(db, "new_payee", rs.CHALLENGE_NEW_PAYEE, "challenge")
    of.create(db, rich.alice, of.body(rich.alice_cny.id, _to_bob(rich), amount_minor=200_000))
    of.run(db)
    [t] = of.transfers(db)
    assert t.status == "held"
    with db.read_session() as s:
        assert f.balance(s, rich.bob_cny.id) == (0, 0)


def test_a_declined_order_occurrence_is_the_orders_failure(db, rich) -> None:
    rs.block_payee(db, rs.atrium_payee(rich.bob_cny.number))
    order = of.create(db, rich.alice, of.body(rich.alice_cny.id, _to_bob(rich), amount_minor=2_500))
    run = of.run(db)
    assert (run.paid, run.failed) == (0, 1)
    [t] = of.transfers(db)
    assert t.status == "declined"
    [execution] = of.detail(db, rich.alice, order.id).executions
    assert (execution.status, execution.failure_code, execution.transfer_id) == ("failed", "payment-declined",
                                                                                 t.id)
    [event] = f.events(db, "StandingOrderFailed")
    assert event["reason_code"] == "payment-declined" and not event["suspended"]
    assert f.events(db, "StandingOrderExecuted") == []
    f.ledger_ok(db)


@pytest.fixture()
def shop(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return mf.merchant(s, name="Corner Grocer", category="groceries")


def _code(db, merchant_id: str, amount: int = 1_250) -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return qr.issue_qr(s, merchant_id=merchant_id, currency="CNY", reference="order-7",
                           amount_minor=amount).payload


def _pay(db, world, payload: str, key: str):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return qr.pay_qr(s, customer_id=world.alice, idempotency_key=key, from_account_id=world.alice_cny.id,
                         payload=payload, channel="mobile")


def _already_paid(db, payload: str) -> bool:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return qr.parse_qr(s, payload).already_paid


def test_a_declined_qr_payment_leaves_the_code_payable(db, world, shop) -> None:
    with db.unit_of_work() as s:
        entry = risk.add_entry(s, ListEntryCreate(list_kind="block", subject_kind="merchant", value=shop.id,
                                                  reason="terminal compromised"), rs.CHECKER)
    payload = _code(db, shop.id)
    t = _pay(db, world, payload, "qr-risk-key-1")
    assert t.status == "declined" and [r.code for r in t.risk_reasons] == ["list.block"]
    assert not _already_paid(db, payload) and f.events(db, "QrPaymentCompleted") == []
    with db.unit_of_work() as s:
        risk.remove_entry(s, entry.id, rs.CHECKER, reason="terminal replaced")
    paid = _pay(db, world, payload, "qr-risk-key-2")
    assert paid.status == "completed" and _already_paid(db, payload)


def test_a_held_qr_payment_completes_on_release(db, world, shop) -> None:
    rs.publish_rule(db, "qr_check", 'channel == "qr" and amount > 10', "review")
    payload = _code(db, shop.id)
    t = _pay(db, world, payload, "qr-risk-key-3")
    assert t.status == "held" and _already_paid(db, payload)  # reserved for this payer meanwhile
    assert f.events(db, "QrPaymentCompleted") == []
    with db.unit_of_work() as s:
        risk.release_case(s, rs.case_for(db, rs.transfer_row(db, t.id).risk_decision_id).id,  # type: ignore[arg-type]
                          rs.CHECKER)
    relay_once(db)
    assert rs.transfer_row(db, t.id).status == "completed"
    [event] = f.events(db, "QrPaymentCompleted")
    assert (event["transfer_id"], event["merchant_id"], event["reference"]) == (t.id, shop.id, "order-7")
    f.ledger_ok(db)


def test_a_qr_payment_confirmed_as_fraud_is_cancelled_and_the_code_freed(db, world, shop) -> None:
    rs.publish_rule(db, "qr_check", 'channel == "qr" and amount > 10', "review")
    payload = _code(db, shop.id)
    t = _pay(db, world, payload, "qr-risk-key-4")
    with db.unit_of_work() as s:
        risk.confirm_fraud(s, rs.case_for(db, rs.transfer_row(db, t.id).risk_decision_id).id,  # type: ignore[arg-type]
                           rs.CHECKER)
    relay_once(db)
    assert rs.transfer_row(db, t.id).status == "cancelled"
    assert not _already_paid(db, payload)
    with db.read_session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000, 100_000)
    f.ledger_ok(db)
