"""The relay of a serving process: drains the backlog at start, wakes on commit, polls, backs off, drains
on stop, and survives failing buses and handlers."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import insert

from atrium.config import Settings
from atrium.events import consumers
from atrium.events.bus import InProcessBus
from atrium.events.catalogue import AccountClosed
from atrium.events.models import OutboxEvent
from atrium.events.relay import Relay, start_relay
from atrium.kit import clock
from atrium.kit.ids import new_id
from tests.events.factories import effect, effects, emit, eventually, opened, rows


def insert_silently(db, n: int = 1) -> list[str]:
    """Commit outbox rows without the session hook that wakes the relay (as another process would)."""
    ids = [new_id("evt") for _ in range(n)]
    with db.engine.begin() as conn:
        for i, event_id in enumerate(ids):
            event = opened(i).model_copy(update={"id": event_id})
            conn.execute(
                insert(OutboxEvent).values(
                    id=event_id, type=event.type, aggregate_id=event.aggregate_id(),
                    payload=event.model_dump(mode="json"), occurred_at=clock.now(), attempts=0,
                )
            )
    return ids


def all_published(db) -> bool:
    return all(r.published_at is not None for r in rows(db))


def test_starting_relay_publishes_the_backlog_left_by_a_previous_process(db, bus):
    backlog = emit(db, opened(1), opened(2)) + insert_silently(db, 2)
    relay = Relay(db, bus, interval_s=60)  # no poll would come in time: only the start-up drain can do it
    relay.start()
    try:
        eventually(lambda: all_published(db), 5, "the backlog to be published")
        assert bus.ids == backlog
    finally:
        relay.stop_blocking()


def test_a_commit_wakes_the_relay_at_once(db, bus):
    relay = Relay(db, bus, interval_s=60)
    relay.start()
    try:
        time.sleep(0.2)  # let it finish the (empty) start-up drain and wait
        began = time.monotonic()
        [event_id] = emit(db, opened(1))
        eventually(lambda: bus.ids == [event_id], 5, "the woken relay to publish")
        assert time.monotonic() - began < 5
    finally:
        relay.stop_blocking()


def test_without_a_wake_up_the_relay_polls(db, bus):
    relay = Relay(db, bus, interval_s=0.1)
    relay.start()
    try:
        time.sleep(0.2)
        ids = insert_silently(db, 3)
        eventually(lambda: bus.ids == ids, 5, "a poll to publish")
    finally:
        relay.stop_blocking()


def test_stop_drains_what_was_committed_before_it(db, bus):
    relay = Relay(db, bus, interval_s=60)
    relay.start()
    time.sleep(0.2)
    ids = insert_silently(db, 5)
    relay.stop_blocking()
    assert bus.ids == ids
    assert all_published(db)


def test_relay_backs_off_while_the_bus_is_down_and_recovers(db, bus):
    bus.down = True
    ids = emit(db, opened(1), opened(2))
    relay = Relay(db, bus, interval_s=0.05, max_backoff_s=0.4)
    relay.start()
    try:
        time.sleep(1.5)
        # Without backoff it would have tried ~30 times; with it: 0.05, 0.1, 0.2, 0.4, 0.4, … ≈ 6.
        assert 2 <= bus.calls <= 10
        calls = bus.calls
        for i in range(5):  # commits during a backoff do not bring the retry forward
            emit(db, opened(10 + i))
            time.sleep(0.02)
        assert bus.calls - calls <= 1
        head_attempts, calls = rows(db)[0].attempts, bus.calls  # a pass may be between publish and mark
        assert calls - 1 <= head_attempts <= calls, "only the head row was tried, once per pass"
        assert all(r.attempts == 0 for r in rows(db)[1:])
        bus.down = False
        eventually(lambda: all_published(db), 5, "recovery after the bus came back")
        assert bus.ids[:2] == ids
    finally:
        relay.stop_blocking()


def test_a_raising_handler_does_not_kill_the_relay(db, registry):
    registry.subscribe("test.bad", ["AccountOpened"], lambda s, e: 1 / 0)
    registry.subscribe("test.good", ["AccountClosed"], effect)
    relay = Relay(db, InProcessBus(db, registry), interval_s=0.05)
    relay.start()
    try:
        emit(db, opened(1))
        time.sleep(0.3)
        closed = AccountClosed(account_id="acc_other", customer_id="cus_0001")
        emit(db, closed)
        eventually(lambda: effects(db, closed.id) == 1, 5, "the next event to be handled")
        [bad] = [r for r in rows(db) if r.type == "AccountOpened"]
        assert bad.published_at is None and 1 <= bad.attempts <= 3, "retried with a per-row backoff"
        assert relay._thread is not None and relay._thread.is_alive()
    finally:
        relay.stop_blocking()


def test_start_relay_runs_the_in_process_bus_with_the_loaded_handlers(db, registry, monkeypatch):
    registry.subscribe("test.runtime", ["AccountOpened"], effect)
    monkeypatch.setattr(consumers, "load_handlers", lambda: registry)
    [backlog] = emit(db, opened(1))

    async def serve() -> None:
        relay = await start_relay(db, Settings(events={"relay_interval_s": 30}))
        try:
            await asyncio.to_thread(eventually, lambda: effects(db, backlog) == 1, 5, "the backlog")
            [live] = emit(db, opened(2))
            await asyncio.to_thread(eventually, lambda: effects(db, live) == 1, 5, "a live event")
        finally:
            await relay.stop()

    asyncio.run(serve())
    assert all(r.published_at is not None for r in rows(db) if r.type == "AccountOpened")
