"""The relay: seq order, batches, marking only after the bus acknowledged, retries after failures."""

from __future__ import annotations

import threading

import pytest

from atrium.config import EventSettings
from atrium.events import consumers, relay
from atrium.events.bus import InProcessBus, open_bus
from atrium.events.relay import backoff_s, drain, relay_once
from tests.events.factories import FakeBus, effect, effects, emit, opened, rows


def test_relay_publishes_in_seq_order_and_marks_rows(db, bus):
    ids = emit(db, *(opened(i) for i in range(5)))
    ids += emit(db, opened(5))

    assert relay_once(db, bus) == 6

    assert bus.ids == ids
    assert [e.seq for e in bus.published] == sorted(e.seq for e in bus.published)
    assert all(r.published_at is not None and r.attempts == 0 for r in rows(db))
    assert relay_once(db, bus) == 0, "a published row is not published again"
    assert bus.calls == 6


def test_relay_walks_a_backlog_in_batches(db, bus):
    ids = emit(db, *(opened(i) for i in range(11)))
    assert relay_once(db, bus, batch_size=3) == 11
    assert bus.ids == ids


def test_unavailable_bus_leaves_rows_unpublished_and_they_are_retried(db, bus):
    ids = emit(db, opened(1), opened(2), opened(3))
    bus.down = True

    result = drain(db, bus)

    assert result.unavailable and result.published == 0
    assert bus.calls == 1, "the pass stops at the first failure instead of hammering a broken bus"
    assert [(r.published_at, r.attempts) for r in rows(db)] == [(None, 1), (None, 0), (None, 0)]

    assert relay_once(db, bus) == 0
    assert rows(db)[0].attempts == 2

    bus.down = False
    assert relay_once(db, bus) == 3
    assert bus.ids == ids
    assert [r.attempts for r in rows(db)] == [2, 0, 0]
    assert all(r.published_at is not None for r in rows(db))


def test_refused_event_holds_back_its_aggregate_only(db, bus):
    a1, a2 = opened(1, account_id="acc_a"), opened(3, account_id="acc_a")
    b1, b2 = opened(2, account_id="acc_b"), opened(4, account_id="acc_b")
    emit(db, a1, b1, a2, b2)
    bus.refuse = {a1.id}

    result = drain(db, bus)

    assert not result.unavailable
    assert bus.ids == [b1.id, b2.id], "acc_a's later event waits for its first; acc_b goes on"
    assert {r.id: r.attempts for r in rows(db) if r.published_at is None} == {a1.id: 1, a2.id: 0}

    bus.refuse.clear()
    assert relay_once(db, bus) == 2
    assert bus.ids == [b1.id, b2.id, a1.id, a2.id]


def test_retry_time_keeps_a_refused_row_back_without_blocking_others(db, bus):
    a, b = opened(1), opened(2)
    emit(db, a, b)
    seq_a = rows(db)[0].seq
    result = drain(db, bus, not_before={seq_a: float("inf")})
    assert bus.ids == [b.id] and result.published == 1


def test_events_recorded_by_consumers_during_a_pass_are_published_in_the_same_call(db, registry):
    registry.subscribe("test.cascade", ["AccountOpened"], effect)
    emit(db, opened(1), opened(2))

    assert relay_once(db, InProcessBus(db, registry), batch_size=1) == 4
    assert effects(db) == 2
    assert all(r.published_at is not None for r in rows(db))


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_s(n, 0.5, 30) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff_s(10_000, 0.5, 30) == 30


def test_open_bus_follows_the_settings(db, registry):
    assert isinstance(open_bus(db, EventSettings(), registry), InProcessBus)
    settings = EventSettings(nats_url="nats://127.0.0.1:1", stream="S", subject_prefix="p")
    nats_bus = open_bus(db, settings, registry)
    try:
        assert nats_bus.name == "nats"  # built without connecting: the relay connects when it publishes
    finally:
        nats_bus.close()


def test_relay_once_without_a_bus_uses_the_settings_bus_with_the_loaded_handlers(db, registry, monkeypatch):
    registry.subscribe("test.loaded", ["AccountOpened"], effect)
    monkeypatch.setattr(consumers, "load_handlers", lambda: registry)
    emit(db, opened(1))
    assert relay.relay_once(db) >= 1
    assert effects(db) == 1


@pytest.mark.postgres
def test_concurrent_relays_share_the_backlog_without_publishing_twice(db):
    if db.is_sqlite:
        pytest.skip("SKIP LOCKED is PostgreSQL's; one SQLite writer relays at a time")
    emit(db, *(opened(i) for i in range(40)))
    buses = [FakeBus(), FakeBus()]
    for b in buses:
        b.delay_s = 0.01  # keep each relay inside its locked batch long enough to overlap
    start = threading.Barrier(2)

    def run(b: FakeBus) -> None:
        start.wait()
        relay_once(db, b, batch_size=5)

    threads = [threading.Thread(target=run, args=(b,)) for b in buses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    published = buses[0].ids + buses[1].ids
    assert sorted(published) == sorted(r.id for r in rows(db)), "every event published exactly once"
    assert len(set(published)) == 40
    assert buses[0].ids and buses[1].ids, "both relays took part"
    for b in buses:  # each relay still publishes its share in seq order
        assert [e.seq for e in b.published] == sorted(e.seq for e in b.published)


def test_unreachable_nats_leaves_rows_unpublished(db, registry):
    from atrium.events.nats import NatsBus

    ids = emit(db, opened(1))
    settings = EventSettings(nats_url="nats://127.0.0.1:1", stream="S", subject_prefix="p")
    bus = NatsBus(settings, db, registry, connect_timeout_s=0.5)
    try:
        result = drain(db, bus)
    finally:
        bus.close()
    assert result.unavailable and result.published == 0
    [row] = rows(db)
    assert (row.id, row.published_at, row.attempts) == (ids[0], None, 1)
