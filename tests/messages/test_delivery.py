"""The delivery job: pending notifications are handed to their channel outside any request; a failing
sender is retried with backoff and finally marked failed — never lost; a crash after a claim is retried
when the lease runs out; two runners never send the same notification; customers without a phone or a
device are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from atrium.kit import clock
from atrium.messages import service as messages
from atrium.messages.domain import Label, Moment
from atrium.messages.models import Notification
from atrium.notify import push, senders
from atrium.notify import service as notify
from atrium.notify.models import SentMessage, SentPush
from tests.messages.factories import FlakyPush, FlakySms, deliver, notifications_of, person

T0 = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
KEYS = {"p256dh": "B" + "A" * 86, "auth": "A" * 22}


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    c = clock.FrozenClock(T0)
    previous = clock.use(c)
    yield c
    clock.use(previous)


@pytest.fixture()
def sms_sender() -> Iterator[None]:
    previous = senders.use(None)
    yield
    senders.use(previous)


@pytest.fixture()
def push_sender() -> Iterator[None]:
    previous = push.use(None, reset=True)
    yield
    push.restore(previous)


def alert(db, customer_id: str, key: str = "evt-1") -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        m = messages.send_templated(
            s, customer_id=customer_id, template_key="security.changed", dedup_key=key,
            values={"change": Label("change:password.changed"), "when": Moment(clock.now())},
        )
    assert m is not None
    return m.id


def by_channel(db, customer_id: str) -> dict[str, Notification]:  # type: ignore[no-untyped-def]
    return {n.channel: n for n in notifications_of(db, customer_id)}


def sms_rows(db) -> list[SentMessage]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return list(s.scalars(select(SentMessage).where(SentMessage.category.like("messages.%"))))


def test_a_security_alert_goes_by_sms_and_push(db, frozen) -> None:
    me = person(db, "me")
    alert(db, me.id)
    report = deliver(db)
    assert report.outcomes == {"sent": 2}
    n = by_channel(db, me.id)
    assert n["sms"].status == "sent" and n["push"].status == "sent" and n["sms"].attempts == 1
    (sms,) = sms_rows(db)
    assert sms.category == "messages.security" and sms.customer_id == me.id
    assert sms.body.startswith("账户安全提醒：您的账户于") and "[Atrium 核验码 " in sms.body
    with db.read_session() as s:
        (p,) = notify.push_outbox(s)
    assert p.title == "账户安全提醒" and p.url.startswith("/messages/msg_") and p.subscription_id is None
    assert deliver(db).handled == 0  # nothing is sent twice


def test_a_failing_sms_gateway_is_retried_with_backoff_then_succeeds(db, frozen, sms_sender) -> None:
    me = person(db, "me")
    alert(db, me.id)
    gateway = FlakySms(failures=2)
    senders.use(gateway)
    assert deliver(db).outcomes == {"retry": 1, "sent": 1}  # push went, SMS waits
    sms = by_channel(db, me.id)["sms"]
    assert sms.status == "pending" and sms.attempts == 1 and sms.last_error == "sms-delivery-failed"
    assert sms.next_attempt_at == T0 + timedelta(seconds=30)
    assert sms_rows(db) == [], "a refused hand-over leaves no 'sent' record"
    assert deliver(db).handled == 0  # not due yet
    frozen.set(T0 + timedelta(seconds=31))
    assert deliver(db).outcomes == {"retry": 1}
    assert by_channel(db, me.id)["sms"].next_attempt_at == T0 + timedelta(seconds=31 + 60)
    frozen.set(T0 + timedelta(seconds=200))
    assert deliver(db).outcomes == {"sent": 1}
    sms = by_channel(db, me.id)["sms"]
    assert sms.status == "sent" and sms.attempts == 3 and sms.last_error is None
    assert len(gateway.sent) == 1 and len(sms_rows(db)) == 1
    assert gateway.sent[0].reference == sms_rows(db)[0].verify_code


def test_a_gateway_that_never_recovers_marks_the_notification_failed_not_lost(db, frozen, sms_sender) -> None:
    me = person(db, "me")
    alert(db, me.id)
    senders.use(FlakySms(failures=1000))
    for minute in range(0, 600, 60):  # well past every backoff
        frozen.set(T0 + timedelta(minutes=minute))
        deliver(db)
    sms = by_channel(db, me.id)["sms"]
    assert sms.status == "failed" and sms.attempts == 5 and sms.last_error == "sms-delivery-failed"
    assert sms.finished_at is not None
    with db.read_session() as s:
        log = messages.delivery_log(s)
    assert log.by_channel["sms"] == {"failed": 1} and log.errors["sms"] == {"sms-delivery-failed": 1}


def test_a_crash_after_the_claim_is_retried_when_the_lease_runs_out(db, frozen) -> None:
    me = person(db, "me")
    alert(db, me.id)
    with db.read_session() as s:
        due = messages.due(s)
    assert len(due) == 2
    for item in due:  # claimed, then the process dies before delivering
        assert db.run(lambda s, item=item: messages.claim(s, item))
        assert not db.run(lambda s, item=item: messages.claim(s, item)), "a second runner never gets it"
    assert deliver(db).handled == 0
    frozen.set(T0 + timedelta(seconds=121))
    assert deliver(db).outcomes == {"sent": 2}
    assert all(n.attempts == 2 for n in notifications_of(db, me.id))


def test_a_bug_in_delivery_counts_as_an_attempt(db, frozen, monkeypatch) -> None:
    me = person(db, "me")
    alert(db, me.id)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setattr(notify, "send_push", broken)
    assert deliver(db).outcomes == {"retry": 1, "sent": 1}
    p = by_channel(db, me.id)["push"]
    assert p.status == "pending" and p.last_error == "error:RuntimeError" and p.attempts == 1


def test_no_phone_no_device_and_push_off_are_skipped(db, frozen, push_sender) -> None:
    me = person(db, "me", phone=False)
    alert(db, me.id, "a")
    push.use(FlakyPush())  # a Web Push-like sender: needs a subscribed browser
    assert deliver(db).outcomes == {"skipped": 2}
    n = by_channel(db, me.id)
    assert (n["sms"].status, n["sms"].last_error) == ("skipped", "no-phone")
    assert (n["push"].status, n["push"].last_error) == ("skipped", "no-device")
    push.use(None)  # push switched off
    alert(db, me.id, "b")
    deliver(db)
    later = [x for x in notifications_of(db, me.id) if x.channel == "push"][-1]
    assert (later.status, later.last_error) == ("skipped", "push-off")


def test_push_to_subscribed_browsers_retries_and_revokes_gone_ones(db, frozen, push_sender) -> None:
    me = person(db, "me", phone=False)
    with db.unit_of_work() as s:
        notify.subscribe_push(s, customer_id=me.id, endpoint="https://push.example.net/a", **KEYS)
    sender = FlakyPush(failures=1)
    push.use(sender)
    alert(db, me.id)
    assert deliver(db).outcomes["retry"] == 1
    frozen.set(T0 + timedelta(minutes=5))
    assert deliver(db).outcomes == {"sent": 1}
    ((target, sent),) = sender.sent
    assert target is not None and target.endpoint == "https://push.example.net/a"
    assert sent.title == "账户安全提醒" and sent.tag.startswith("msg_")
    with db.read_session() as s:
        assert s.scalars(select(SentPush)).one().subscription_id is not None


def test_a_message_deleted_before_delivery_is_not_sent(db, frozen) -> None:
    me = person(db, "me")
    mid = alert(db, me.id)
    with db.unit_of_work() as s:
        messages.delete_message(s, me.id, mid)
    assert deliver(db).outcomes == {"skipped": 2}
    assert sms_rows(db) == []


def test_the_job_keeps_going_while_batches_are_full(db, frozen, monkeypatch) -> None:
    from atrium.config import get_settings
    from atrium.messages.tasks import deliver_job

    monkeypatch.setattr(get_settings().messages, "delivery_batch", 3)
    me = person(db, "me")
    for i in range(4):
        alert(db, me.id, f"burst-{i}")  # 8 notifications: SMS and push each
    assert deliver_job(db).outcomes == {"sent": 8}  # three batches in one run, not one per tick
    assert deliver_job(db, max_batches=1).handled == 0
