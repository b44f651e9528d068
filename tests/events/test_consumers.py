"""Consumers: the inbox makes each consumer's effect happen once per event, whatever the bus repeats."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from atrium.events import consumers
from atrium.events.bus import DeliveryFailed, Envelope, InProcessBus
from atrium.events.consumers import Registry, deliver, handled
from atrium.events.models import InboxEntry
from atrium.events.relay import relay_once
from tests.events.factories import effect, effects, emit, opened, rows


def envelope_of(db, event) -> Envelope:
    emit(db, event)
    return Envelope.from_row(next(r for r in rows(db) if r.id == event.id))


def inbox(db) -> list[tuple[str, str]]:
    with db.read_session() as s:
        return [(e.consumer, e.event_id) for e in s.scalars(select(InboxEntry).order_by(InboxEntry.consumer))]


def test_the_same_event_delivered_twice_has_one_effect(db, registry):
    calls = []

    def handler(session, event):
        calls.append(event.id)
        effect(session, event)

    registry.subscribe("test.once", ["AccountOpened"], handler)
    consumer = registry.get("test.once")
    env = envelope_of(db, event := opened(1))

    assert deliver(db, consumer, env) is True
    assert deliver(db, consumer, env) is False

    assert calls == [event.id]
    assert effects(db, event.id) == 1
    assert inbox(db) == [("test.once", event.id)]


def test_handler_receives_the_typed_event(db, registry):
    seen = []
    registry.subscribe("test.typed", ["AccountOpened"], lambda s, e: seen.append(e))
    deliver(db, registry.get("test.typed"), envelope_of(db, event := opened(3)))
    assert seen == [event] and seen[0].account_id == "acc_0003"


def test_each_consumer_has_its_own_inbox(db, registry):
    registry.subscribe("test.a", ["AccountOpened"], effect)
    registry.subscribe("test.b", ["AccountOpened"], effect)
    env = envelope_of(db, event := opened(1))
    bus = InProcessBus(db, registry)
    bus.publish(env)
    bus.publish(env)
    assert effects(db, event.id) == 2  # one per consumer, not one per delivery
    assert inbox(db) == [("test.a", event.id), ("test.b", event.id)]


def test_failing_handler_rolls_back_its_effect_and_the_event_is_retried(db, registry):
    broken = True

    def handler(session, event):
        effect(session, event)
        session.flush()
        if broken:
            raise RuntimeError("handler bug")

    registry.subscribe("test.flaky", ["AccountOpened"], handler)
    bus = InProcessBus(db, registry)
    emit(db, event := opened(1))

    assert relay_once(db, bus) == 0
    assert effects(db, event.id) == 0, "the effect was rolled back with the inbox row"
    assert not handled(db, "test.flaky", event.id)
    [row] = rows(db)
    assert row.published_at is None and row.attempts == 1

    broken = False
    assert relay_once(db, bus) == 2  # the event, then the one its handler recorded
    assert effects(db, event.id) == 1
    assert all(r.published_at is not None for r in rows(db))
    assert handled(db, "test.flaky", event.id)


def test_one_failing_consumer_does_not_make_the_others_run_twice(db, registry):
    good_calls = []
    registry.subscribe("test.good", ["AccountOpened"], lambda s, e: good_calls.append(e.id))
    registry.subscribe("test.bad", ["AccountOpened"], lambda s, e: 1 / 0)
    bus = InProcessBus(db, registry)
    env = envelope_of(db, event := opened(1))

    with pytest.raises(DeliveryFailed) as failed:
        bus.publish(env)
    assert failed.value.consumer_names == ["test.bad"]
    with pytest.raises(DeliveryFailed):
        bus.publish(env)  # the relay's retry
    assert good_calls == [event.id]


def test_consumers_only_get_the_types_they_subscribed_to(db, registry):
    got = []
    registry.subscribe("test.closed_only", ["AccountClosed"], lambda s, e: got.append(e))
    InProcessBus(db, registry).publish(envelope_of(db, opened(1)))
    assert got == [] and inbox(db) == []


def test_concurrent_duplicate_deliveries_have_one_effect(db, registry):
    calls = []

    def slow_handler(session, event):
        calls.append(event.id)
        effect(session, event)
        time.sleep(0.2)  # the other delivery arrives while this one is uncommitted

    registry.subscribe("test.race", ["AccountOpened"], slow_handler)
    consumer = registry.get("test.race")
    env = envelope_of(db, event := opened(1))
    start = threading.Barrier(2)
    results: list[bool] = []

    def run() -> None:
        start.wait()
        results.append(deliver(db, consumer, env))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(results) == [False, True]
    assert calls == [event.id]
    assert effects(db, event.id) == 1


def test_subscription_is_checked_when_registered():
    r = Registry()
    r.subscribe("payments.notify", ["TransferCompleted"], lambda s, e: None)
    with pytest.raises(ValueError, match="duplicate"):
        r.subscribe("payments.notify", ["TransferFailed"], lambda s, e: None)
    with pytest.raises(ValueError, match="collides"):
        r.subscribe("payments-notify", ["TransferFailed"], lambda s, e: None)
    with pytest.raises(ValueError, match="unknown event types"):
        r.subscribe("payments.other", ["TransferHappened"], lambda s, e: None)
    with pytest.raises(ValueError, match="no event type"):
        r.subscribe("payments.other", [], lambda s, e: None)
    with pytest.raises(ValueError, match="must match"):
        r.subscribe("Payments Notify", ["TransferFailed"], lambda s, e: None)
    assert [c.name for c in r.all()] == ["payments.notify"]
    assert r.get("payments.notify").durable_name == "payments_notify"


def test_subscribe_works_as_a_decorator():
    r = Registry()

    @r.subscribe("accounts.welcome", ["AccountOpened"])
    def welcome(session, event):
        return None

    assert r.get("accounts.welcome").handler is welcome
    assert [c.name for c in r.for_type("AccountOpened")] == ["accounts.welcome"]
    assert r.for_type("AccountClosed") == []


def test_load_handlers_imports_the_domains_registration_module():
    import sys

    sys.modules.pop("atrium.handlers", None)
    assert consumers.load_handlers() is consumers.registry
    assert "atrium.handlers" in sys.modules
