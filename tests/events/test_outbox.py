"""The producing side: an outbox row exists if and only if the producing transaction commits."""

from __future__ import annotations

import pytest

from atrium.events import outbox
from atrium.events.bus import Envelope
from atrium.events.catalogue import parse
from tests.events.factories import opened, rows


def test_committed_transaction_leaves_its_event_and_wakes_the_relay(db):
    event = opened(1)
    with db.unit_of_work() as s:
        outbox.record(s, event)
        assert not outbox.outbox_written.is_set(), "woken before the commit"
    assert outbox.outbox_written.is_set()
    [row] = rows(db)
    assert (row.id, row.type, row.aggregate_id) == (event.id, "AccountOpened", "acc_0001")
    assert row.published_at is None and row.attempts == 0
    assert parse(row.type, row.payload) == event


def test_rolled_back_transaction_leaves_no_event(db):
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        outbox.record(s, opened(1))
        s.flush()  # the row reached the database, inside the transaction
        raise RuntimeError("the state change failed")
    assert rows(db) == []
    assert not outbox.outbox_written.is_set()


def test_event_recorded_before_a_rollback_does_not_leak_into_the_next_commit(db):
    with db.session() as s:
        outbox.record(s, opened(1))
        s.rollback()
        outbox.record(s, second := opened(2))
        s.commit()
    assert [r.id for r in rows(db)] == [second.id]


def test_rows_are_numbered_in_commit_order(db):
    first, second = opened(1), opened(2)
    with db.unit_of_work() as s:
        outbox.record(s, first)
    with db.unit_of_work() as s:
        outbox.record(s, second)
    a, b = rows(db)
    assert (a.id, b.id) == (first.id, second.id) and a.seq < b.seq


def test_envelope_round_trips_through_json(db):
    event = opened(7)
    with db.unit_of_work() as s:
        outbox.record(s, event)
    env = Envelope.from_row(rows(db)[0])
    back = Envelope.from_json(env.to_json())
    assert back == env.__class__(env.id, env.type, env.aggregate_id, env.occurred_at, env.payload)
    assert parse(back.type, back.payload) == event
