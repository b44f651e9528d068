"""NATS JetStream: publish → durable consumer → inbox; redelivery when a consumer did not ack; duplicate
publishes dropped by Nats-Msg-Id. Needs ATRIUM_TEST_NATS_URL; each test has its own stream."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import update

from atrium.events.bus import Envelope
from atrium.events.consumers import deliver, handled
from atrium.events.models import OutboxEvent
from atrium.events.nats import NatsBus
from atrium.events.relay import relay_once
from tests.events.factories import effect, effects, emit, eventually, opened, rows

pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(not os.environ.get("ATRIUM_TEST_NATS_URL"), reason="needs ATRIUM_TEST_NATS_URL"),
]


@pytest.fixture()
def make_bus(db, registry, nats_settings):
    buses: list[NatsBus] = []

    def make(**options) -> NatsBus:
        bus = NatsBus(nats_settings, db, registry, **options)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.close()


def stream_info(settings):
    async def info():
        import nats

        nc = await nats.connect(settings.nats_url)
        try:
            return await nc.jetstream().stream_info(settings.stream)
        finally:
            await nc.close()

    return asyncio.run(info())


def consumer_info(settings, durable):
    async def info():
        import nats

        nc = await nats.connect(settings.nats_url)
        try:
            return await nc.jetstream().consumer_info(settings.stream, durable)
        finally:
            await nc.close()

    return asyncio.run(info())


def fully_acked(settings, durable) -> bool:
    from nats.js.errors import NotFoundError

    try:
        info = consumer_info(settings, durable)
    except NotFoundError:
        return False  # the bus creates its durable consumers in the background: not there yet
    return info.num_ack_pending == 0 and info.num_pending == 0


def test_relay_publishes_to_jetstream_and_the_durable_consumer_handles_once(
    db, registry, make_bus, nats_settings
):
    calls = []

    def handler(session, event):
        calls.append(event.id)
        effect(session, event)

    registry.subscribe("test.nats", ["AccountOpened"], handler)
    bus = make_bus()
    ids = emit(db, opened(1), opened(2))

    assert relay_once(db, bus) == 2
    assert all(r.published_at is not None for r in rows(db))
    info = stream_info(nats_settings)
    assert info.state.messages == 2
    assert info.config.subjects == [f"{nats_settings.subject_prefix}.>"]

    bus.start_consumers()
    eventually(lambda: all(effects(db, i) == 1 for i in ids), 10, "the consumer to handle both")
    eventually(lambda: fully_acked(nats_settings, "test_nats"), 10, "acks after commit")
    assert calls == ids
    assert all(handled(db, "test.nats", i) for i in ids)


def test_types_a_consumer_did_not_subscribe_to_are_acked_without_work(db, registry, make_bus, nats_settings):
    calls = []
    registry.subscribe("test.closed", ["AccountClosed"], lambda s, e: calls.append(e))
    bus = make_bus()
    emit(db, opened(1))
    relay_once(db, bus)
    bus.start_consumers()
    eventually(lambda: fully_acked(nats_settings, "test_closed"), 10, "the skip to be acked")
    assert calls == []


def test_message_a_consumer_did_not_ack_is_redelivered(db, registry, make_bus, nats_settings):
    """A process fetched the event and died before committing (so before acking): it comes back."""
    import nats
    from nats.js.api import ConsumerConfig

    registry.subscribe("test.redeliver", ["AccountOpened"], effect)
    bus = make_bus(ack_wait_s=1.0)
    [event_id] = emit(db, opened(1))
    relay_once(db, bus)

    async def fetch_and_die() -> int:
        nc = await nats.connect(nats_settings.nats_url)
        psub = await nc.jetstream().pull_subscribe(
            f"{nats_settings.subject_prefix}.>", durable="test_redeliver", stream=nats_settings.stream,
            config=ConsumerConfig(ack_wait=1.0),
        )
        [msg] = await psub.fetch(1, timeout=5)
        await nc.close()  # no ack: the crashed process
        return msg.metadata.num_delivered

    assert asyncio.run(fetch_and_die()) == 1
    assert effects(db, event_id) == 0

    bus.start_consumers()
    eventually(lambda: effects(db, event_id) == 1, 10, "the redelivered event to be handled")
    eventually(lambda: fully_acked(nats_settings, "test_redeliver"), 10, "the redelivery to be acked")
    info = consumer_info(nats_settings, "test_redeliver")
    assert (info.delivered.stream_seq, info.delivered.consumer_seq) == (1, 2), "one message, delivered twice"


def test_handler_failure_naks_and_the_event_comes_back(db, registry, make_bus, nats_settings):
    attempts = []

    def flaky(session, event):
        attempts.append(event.id)
        effect(session, event)
        if len(attempts) == 1:
            raise RuntimeError("first try fails after writing")

    registry.subscribe("test.flaky", ["AccountOpened"], flaky)
    bus = make_bus()
    [event_id] = emit(db, opened(1))
    relay_once(db, bus)
    bus.start_consumers()

    eventually(lambda: effects(db, event_id) == 1, 15, "the retried delivery to commit")
    eventually(lambda: fully_acked(nats_settings, "test_flaky"), 10, "the ack")
    assert attempts == [event_id, event_id]


def test_commit_without_ack_is_redelivered_and_skipped_by_the_inbox(db, registry, make_bus, nats_settings):
    """A process committed the effect and died before acking: the redelivery must not act again."""
    calls = []

    def handler(session, event):
        calls.append(event.id)
        effect(session, event)

    registry.subscribe("test.commit_no_ack", ["AccountOpened"], handler)
    bus = make_bus()
    [event_id] = emit(db, opened(1))
    deliver(db, registry.get("test.commit_no_ack"), Envelope.from_row(rows(db)[0]))  # the dead process
    relay_once(db, bus)
    bus.start_consumers()

    eventually(lambda: fully_acked(nats_settings, "test_commit_no_ack"), 10, "the duplicate to be acked")
    assert calls == [event_id]
    assert effects(db, event_id) == 1


def test_duplicate_publish_is_dropped_by_nats_msg_id(db, make_bus, nats_settings):
    bus = make_bus()
    emit(db, opened(1))
    env = Envelope.from_row(rows(db)[0])

    first = bus.publish_acked(env)
    again = bus.publish_acked(env)

    assert not first.duplicate and again.duplicate
    assert again.seq == first.seq
    assert stream_info(nats_settings).state.messages == 1


def test_relay_retry_after_a_lost_mark_publishes_no_second_message(db, registry, make_bus, nats_settings):
    """The relay published, then died before marking the row: the restarted relay publishes it again."""
    registry.subscribe("test.lost_mark", ["AccountOpened"], effect)
    bus = make_bus()
    [event_id] = emit(db, opened(1))
    relay_once(db, bus)
    with db.unit_of_work() as s:
        s.execute(update(OutboxEvent).values(published_at=None))

    assert relay_once(db, bus) == 1
    assert stream_info(nats_settings).state.messages == 1
    bus.start_consumers()
    eventually(lambda: fully_acked(nats_settings, "test_lost_mark"), 10, "the consumer")
    assert effects(db, event_id) == 1
