"""The inbox and a transfer held for the anti-fraud review: "being checked" when it is held, then one
message when the analyst releases it — the completion itself for a payment that completes on release, a
"check complete" for one that still has to clear at another bank."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.kit.ids import new_id
from atrium.payments import service as payments
from atrium.payments.qr import service as qr
from atrium.payments.schemas import AtriumDestination, Destination, ExternalDestination
from atrium.risk import service as risk
from tests.messages.factories import Person, inbox_of, person, relay
from tests.payments import risk_support as rs
from tests.web.mobile.factories import qr_code

pytestmark = pytest.mark.usefixtures("fresh_risk")


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


def held(db, payer: Person, to: Destination) -> str:  # type: ignore[no-untyped-def]
    """A 4,000.00 payment the live review rule holds; its transfer id."""
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    with db.unit_of_work() as s:
        t = payments.transfer(
            s,
            customer_id=payer.id,
            idempotency_key=new_id("key"),
            from_account_id=payer.accounts[0].id,
            to=to,
            amount_minor=400_000,
            currency="CNY",
            channel="mobile",
        )
    assert t.status == "held"
    return t.id


def release(db, transfer_id: str) -> None:  # type: ignore[no-untyped-def]
    decision_id = rs.transfer_row(db, transfer_id).risk_decision_id
    assert decision_id is not None
    with db.unit_of_work() as s:
        risk.release_case(s, rs.case_for(db, decision_id).id, rs.CHECKER, note="customer confirmed by phone")
    relay(db)


def test_a_released_own_bank_transfer_is_told_once_by_its_completion(db) -> None:
    payer, payee = person(db, "payer"), person(db, "payee")
    transfer_id = held(db, payer, AtriumDestination(type="atrium", account_number=payee.accounts[0].number))
    relay(db)
    assert [m.title for m in inbox_of(db, payer.id)] == ["付款正在安全审核"]
    release(db, transfer_id)
    assert rs.transfer_row(db, transfer_id).status == "completed"
    assert [m.title for m in inbox_of(db, payer.id)] == ["付款正在安全审核", "转账成功"]
    assert [m.title for m in inbox_of(db, payee.id)] == ["收到转账"]


def test_a_released_interbank_transfer_hears_check_complete_while_it_clears(db) -> None:
    payer = person(db, "payer")
    transfer_id = held(
        db,
        payer,
        ExternalDestination(
            type="external", bank_code="HCBK", account_number="6230000000001234", account_name="Li Lei"
        ),
    )
    release(db, transfer_id)
    assert rs.transfer_row(db, transfer_id).status == "pending"
    assert [m.title for m in inbox_of(db, payer.id)] == ["付款正在安全审核", "付款已通过安全审核"]


def test_a_released_qr_payment_is_told_once_naming_the_merchant(db) -> None:
    payer = person(db, "payer")
    rs.publish_rule(db, "large_qr", rs.REVIEW_LARGE, "review")
    payload = qr_code(db, amount_minor=400_000)
    with db.unit_of_work() as s:
        t = qr.pay_qr(
            s,
            customer_id=payer.id,
            idempotency_key=new_id("key"),
            from_account_id=payer.accounts[0].id,
            payload=payload,
            channel="mobile",
        )
    assert t.status == "held"
    release(db, t.id)
    assert rs.transfer_row(db, t.id).status == "completed"
    assert [m.title for m in inbox_of(db, payer.id)] == ["付款正在安全审核", "扫码付款成功"]
