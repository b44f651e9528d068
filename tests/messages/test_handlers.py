"""The inbox's event handlers: each event becomes exactly one message (however often it is delivered), in
the customer's language, with the notifications their settings and the category ask for."""

from __future__ import annotations

from datetime import date

from atrium.events import consumers, outbox
from atrium.events.bus import Envelope, InProcessBus
from atrium.events.catalogue import (
    PaymentLimitChanged,
    QrPaymentCompleted,
    SecurityChangeRecorded,
    StandingOrderExecuted,
    StandingOrderFailed,
    TransferCompleted,
    TransferFailed,
    TransferReturned,
)
from atrium.events.models import OutboxEvent
from atrium.identity import audit
from atrium.kit.ids import new_id
from atrium.messages import handlers
from atrium.messages import service as messages
from atrium.messages.schemas import PreferencesUpdate
from atrium.payments import service as payments
from atrium.payments.schemas import AtriumDestination
from tests.messages.factories import inbox_of, move_own, notifications_of, pay, person, relay


def emit(db, *events) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        for e in events:
            outbox.record(s, e)


def test_a_transfer_gives_the_payer_and_the_payee_one_message_each(db) -> None:
    payer, payee = person(db, "payer"), person(db, "payee", locale="en")
    pay(db, payer, payee, 123_45)
    relay(db)
    (sent,) = inbox_of(db, payer.id)
    (got,) = inbox_of(db, payee.id)
    assert sent.title == "转账成功" and "转出¥123.45，已完成。" in sent.body
    assert sent.body.startswith(f"您尾号{payer.accounts[0].number[-4:]}的账户")
    assert sent.link == f"/accounts/{payer.accounts[0].id}" and sent.category == "transaction"
    assert got.title == "Money received" and got.body == (
        f"CN¥123.45 arrived in your account ending {payee.accounts[0].number[-4:]}."
    )
    assert got.link == f"/accounts/{payee.accounts[0].id}"
    # Transactions go by push by default, not SMS.
    assert [(n.channel, n.status) for n in notifications_of(db, payer.id)] == [("push", "pending")]


def test_delivered_twice_the_event_still_makes_one_message(db) -> None:
    payer, payee = person(db, "payer"), person(db, "payee")
    pay(db, payer, payee, 10_00)
    with db.read_session() as s:
        row = s.query(OutboxEvent).filter(OutboxEvent.type == "TransferCompleted").one()
        envelope = Envelope.from_row(row)
    bus = InProcessBus(db, consumers.load_handlers())
    bus.publish(envelope)
    bus.publish(envelope)  # a relay retry or a broker redelivery
    relay(db)  # and the relay publishing the row as well
    assert len(inbox_of(db, payer.id)) == 1 and len(inbox_of(db, payee.id)) == 1
    assert len(notifications_of(db, payer.id)) == 1
    # Even the handler itself run twice (a renamed consumer) adds nothing: the event id is the dedup key.
    event = TransferCompleted.model_validate(envelope.payload)
    with db.unit_of_work() as s:
        handlers.transfer_completed(s, event)
    assert len(inbox_of(db, payer.id)) == 1 and len(inbox_of(db, payee.id)) == 1


def test_an_own_transfer_is_one_message(db) -> None:
    me = person(db, "me", savings=True)
    move_own(db, me, 5_00)
    relay(db)
    assert [m.title for m in inbox_of(db, me.id)] == ["转账成功"]


def test_a_qr_payment_is_told_once_naming_the_merchant(db) -> None:
    payer, shop = person(db, "payer"), person(db, "shop")
    transfer_id = pay(db, payer, shop, 36_00)
    relay(db)
    before = len(inbox_of(db, payer.id))
    emit(db,
         TransferCompleted(transfer_id=transfer_id, kind="qr", from_account_id=payer.accounts[0].id,
                           to_account_id=shop.accounts[0].id, amount_minor=36_00, currency="CNY",
                           customer_id=payer.id),
         QrPaymentCompleted(transfer_id=transfer_id, merchant_id="mer_1", category="food",
                            customer_id=payer.id, amount_minor=36_00, currency="CNY", reference="ORDER-7"))
    relay(db)
    new = inbox_of(db, payer.id)[before:]
    assert [m.title for m in new] == ["扫码付款成功"]
    assert "付款¥36.00，订单号 ORDER-7。" in new[0].body


def test_standing_orders_are_told_by_their_own_events(db) -> None:
    payer, payee = person(db, "payer"), person(db, "payee")
    with db.unit_of_work() as s:
        t = payments.transfer(
            s, customer_id=payer.id, idempotency_key=new_id("key"), from_account_id=payer.accounts[0].id,
            to=AtriumDestination(type="atrium", account_number=payee.accounts[0].number), amount_minor=50_00,
            currency="CNY", channel="scheduled",
        )
    emit(db,
         StandingOrderExecuted(order_id="so_1", customer_id=payer.id, occurrence_on="2025-03-01",
                               transfer_id=t.id, amount_minor=50_00, currency="CNY"),
         StandingOrderFailed(order_id="so_1", customer_id=payer.id, occurrence_on="2025-04-01",
                             reason_code="insufficient-funds", suspended=False),
         StandingOrderFailed(order_id="so_1", customer_id=payer.id, occurrence_on="2025-06-01",
                             reason_code="insufficient-funds", suspended=True))
    relay(db)
    titles = [m.title for m in inbox_of(db, payer.id)]
    # No generic "transfer completed" for the order's payment.
    assert titles == ["定期转账已执行", "定期转账未能执行", "定期转账已暂停"]
    bodies = [m.body for m in inbox_of(db, payer.id)]
    assert "2025年3月1日" in bodies[0] and "¥50.00" in bodies[0]
    assert "余额不足" in bodies[1] and "连续三次" in bodies[2]
    assert [m.title for m in inbox_of(db, payee.id)] == ["收到转账"]  # the payee is still told


def test_returned_and_failed_transfers(db) -> None:
    payer, payee = person(db, "payer", locale="en"), person(db, "payee")
    transfer_id = pay(db, payer, payee, 99_00)
    relay(db)
    emit(db, TransferReturned(transfer_id=transfer_id, reason="AC04", customer_id=payer.id),
         TransferFailed(transfer_id=transfer_id, reason="ZZ99", customer_id=payer.id))
    relay(db)
    returned, failed = inbox_of(db, payer.id)[1:]
    assert returned.title == "Transfer returned" and "(the receiving account is closed)" in returned.body
    assert failed.title == "Transfer not made" and "(no reason given)" in failed.body
    assert "CN¥99.00" in failed.body


def test_security_changes_are_alerts_by_sms_even_when_transactions_are_not(db) -> None:
    me = person(db, "me")
    with db.unit_of_work() as s:
        messages.update_preferences(s, me.id, PreferencesUpdate(channels={"transaction": {"sms": False,
                                                                                          "push": False}}))
        audit.record(s, me.id, "password.changed")
        audit.record(s, me.id, "identity.switched", "company_operator: X")  # routine: no alert
    relay(db)
    (alert,) = inbox_of(db, me.id)
    assert alert.category == "security" and alert.title == "账户安全提醒"
    assert "修改了登录密码" in alert.body and alert.link == "/security/history"
    assert sorted(n.channel for n in notifications_of(db, me.id)) == ["push", "sms"]


def test_the_security_event_carries_no_personal_data(db) -> None:
    me = person(db, "me")
    with db.unit_of_work() as s:
        audit.record(s, me.id, "device.renamed", "dev_1: Mei's iPhone 15")
    with db.read_session() as s:
        row = s.query(OutboxEvent).filter(OutboxEvent.type == SecurityChangeRecorded.type).one()
    assert set(row.payload) == {"id", "occurred_at", "customer_id", "action", "change_id"}
    assert "iPhone" not in str(row.payload)


def test_payment_limit_changes_are_security_alerts(db) -> None:
    me = person(db, "me", locale="en")
    emit(db, PaymentLimitChanged(customer_id=me.id, setting="switch:overseas"),
         PaymentLimitChanged(customer_id=me.id, setting="own:interbank_transfer:CNY"))
    relay(db)
    first, second = inbox_of(db, me.id)
    assert first.category == "security" and "Your overseas payments switch changed at" in first.body
    assert "Your limit for transfers to other banks changed" in second.body
    assert first.link == "/limits"


def test_events_for_unknown_customers_change_nothing_and_do_not_fail(db) -> None:
    emit(db, PaymentLimitChanged(customer_id="cus_nobody", setting="switch:overseas"),
         StandingOrderFailed(order_id="so_9", customer_id="cus_nobody",
                             occurrence_on=date.today().isoformat(), reason_code="x", suspended=False))
    assert relay(db) == 2
    assert inbox_of(db, "cus_nobody") == []
