""""This wasn't me" on a challenged QR payment, at the service (`report_qr_not_me`): the same request as
`pay_qr`'s, its decision labelled fraud by the customer's word, the payment recorded `cancelled` (`not-me`)
under its idempotency key with nothing moved and the code not used up; idempotent; a payment already made
is returned unchanged; nobody disowns another customer's payment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from atrium.accounts.errors import AccountNotFound
from atrium.identity.errors import StepUpRequired
from atrium.identity.principal import Principal
from atrium.kit.errors import IdempotencyConflict
from atrium.limits import service as limits
from atrium.payments.qr import service as qr
from atrium.payments.qr.errors import QrBadSignature
from atrium.risk import service as risk
from tests.payments import factories as f
from tests.payments import risk_support as rs
from tests.payments.qr.conftest import issue, retamper
from tests.payments.qr.test_pay import merchant_booked, qr_payments

pytestmark = pytest.mark.usefixtures("fresh_risk")

CHALLENGE_QR = 'channel == "qr" and amount > 10'


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


def present(customer_id: str) -> Principal:
    """The signed-in customer, there to answer a challenge."""
    return Principal(kind="customer", id=customer_id, loa=2)


def pay(db, customer: str, account_id: str, payload: str, key: str, **extra):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return qr.pay_qr(s, customer_id=customer, idempotency_key=key, from_account_id=account_id,
                         payload=payload, channel="mobile", principal=present(customer), **extra)


def not_me(db, customer: str, account_id: str, payload: str, key: str, **extra):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return qr.report_qr_not_me(s, customer_id=customer, idempotency_key=key, from_account_id=account_id,
                                   payload=payload, channel="mobile", principal=present(customer), **extra)


def labels(db, decision_id: str) -> list[bool]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return [label.fraud for label in risk.labels_of(s, decision_id)]


def already_paid(db, payload: str) -> bool:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return qr.parse_qr(s, payload).already_paid


def qr_used_today(db, customer_id: str) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        lines = limits.usage(s, customer_id, channel="mobile", currency="CNY")
    return next(line.daily_used_minor for line in lines if line.method == "qr_payment")


def test_disowning_a_challenged_payment_labels_it_fraud_and_stops_it(db, world, shop) -> None:
    rs.publish_rule(db, "qr_check", CHALLENGE_QR, "challenge", reason="behaviour.unusual_amount")
    payload = issue(db, shop.id, amount=1_250)
    with pytest.raises(StepUpRequired) as asked:
        pay(db, world.alice, world.alice_cny.id, payload, "qr-notme-0001")
    assert asked.value.extra["reasons"]  # the "was this you?" the customer answers
    before = f.snapshot(db, world.ids())

    t = not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0001")

    assert (t.kind, t.status, t.failure_code, t.amount_minor) == ("qr", "cancelled", "not-me", 1_250)
    assert t.journal_id is None and t.hold_id is None
    [decision] = rs.decisions(db, channel="qr")
    assert (decision.outcome, decision.challenge_result, decision.transfer_id) == ("challenge", "disowned",
                                                                                   t.id)
    assert labels(db, decision.id) == [True]
    assert [e["decision_id"] for e in f.events(db, "FraudConfirmed")] == [decision.id]
    assert f.snapshot(db, world.ids()).balances == before.balances and merchant_booked(db, shop.id) == 0
    assert qr_used_today(db, world.alice) == 0
    assert f.events(db, "QrPaymentCompleted") == [] and f.events(db, "TransferCompleted") == []
    assert not already_paid(db, payload)  # a stopped payment does not use the code up
    assert f.ledger_ok(db)


def test_disowning_is_idempotent_and_the_form_can_never_pay_it_afterwards(db, world, shop) -> None:
    rs.publish_rule(db, "qr_check", CHALLENGE_QR, "challenge")
    payload = issue(db, shop.id, amount=1_250)
    first = not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0002")
    assert not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0002") == first
    # The confirmed form posted again (even with an answered challenge) answers the stopped payment.
    assert pay(db, world.alice, world.alice_cny.id, payload, "qr-notme-0002", step_up="anything") == first
    assert rs.transfers_count(db) == 1 and qr_payments(db) == 1
    [decision] = rs.decisions(db, channel="qr")
    assert labels(db, decision.id) == [True]
    # Another payment of the same code (a new key) is still possible: someone else's order, or a retry.
    with pytest.raises(StepUpRequired):
        pay(db, world.alice, world.alice_cny.id, payload, "qr-notme-0003")


def test_the_same_key_with_another_request_is_a_conflict(db, world, shop) -> None:
    rs.publish_rule(db, "qr_check", CHALLENGE_QR, "challenge")
    payload = issue(db, shop.id, amount=None, reference="stall-1", ttl=timedelta(days=1))
    stopped = not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0004", amount_minor=2_000)
    assert (stopped.status, stopped.amount_minor) == ("cancelled", 2_000)
    with pytest.raises(IdempotencyConflict):
        not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0004", amount_minor=3_000)


def test_a_payment_already_made_under_the_key_is_returned_unchanged(db, world, shop) -> None:
    payload = issue(db, shop.id, amount=1_250)
    paid = pay(db, world.alice, world.alice_cny.id, payload, "qr-notme-0005")  # no rule: allowed
    assert paid.status == "completed"
    assert not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0005") == paid
    [decision] = rs.decisions(db, channel="qr")
    assert decision.challenge_result is None and labels(db, decision.id) == []
    assert merchant_booked(db, shop.id) == 1_250 and rs.transfer_row(db, paid.id).status == "completed"


def test_a_customer_cannot_disown_another_customers_payment(db, world, shop) -> None:
    payload = issue(db, shop.id, amount=1_250)
    paid = pay(db, world.alice, world.alice_cny.id, payload, "qr-notme-0006")
    # Bob, with Alice's account and Alice's key: her account is not his (nothing is written).
    with pytest.raises(AccountNotFound):
        not_me(db, world.bob, world.alice_cny.id, payload, "qr-notme-0006")
    # Bob's own account under the same key is his own request, in his own key space: Alice's payment and
    # its decision are untouched.
    mine = not_me(db, world.bob, world.bob_cny.id, payload, "qr-notme-0006")
    assert mine.id != paid.id and mine.status == "cancelled"
    assert rs.transfer_row(db, paid.id).status == "completed"
    alices = rs.decisions(db, channel="qr", customer_id=world.alice)
    assert [(d.challenge_result, labels(db, d.id)) for d in alices] == [(None, [])]


def test_a_code_that_expired_since_the_challenge_can_still_be_disowned_a_forged_one_cannot(
    db, world, shop, frozen
) -> None:
    rs.publish_rule(db, "qr_check", CHALLENGE_QR, "challenge")
    payload = issue(db, shop.id, amount=1_250, ttl=timedelta(minutes=1))
    with pytest.raises(StepUpRequired):
        pay(db, world.alice, world.alice_cny.id, payload, "qr-notme-0007")
    frozen.set(f.NOON + timedelta(minutes=5))
    t = not_me(db, world.alice, world.alice_cny.id, payload, "qr-notme-0007")
    assert (t.status, t.failure_code) == ("cancelled", "not-me")
    with pytest.raises(QrBadSignature):
        not_me(db, world.alice, world.alice_cny.id, retamper(payload, a=1), "qr-notme-0008")
    assert rs.transfers_count(db) == 1
