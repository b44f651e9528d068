"""The outbox relay: publishes committed outbox rows to the bus, at least once, in `seq` order.

A pass ("drain") walks the unpublished rows in `seq` order, in batches, and marks a row published only after
the bus acknowledged it. On PostgreSQL a batch is taken `FOR UPDATE SKIP LOCKED` and held until marked,
so several relay processes share the backlog without publishing a row twice in normal operation. SQLite
has one writer at a time, so there the batch is read without a lock (in-process consumers need the write
lock to commit while the relay delivers) and marked afterwards; two relays on one SQLite file may publish
a row twice, which the bus and the inboxes absorb like any retry.

Failures:
- A consumer refusing one event (`DeliveryFailed`) fails that row only: its `attempts` is incremented, the
  relay retries it after a per-row backoff, and later events of the *same aggregate* are held back until
  it goes through, so one aggregate's events are never published out of order. Other events proceed.
- Any other error (the broker down, a timeout, the database away) stops the pass: the row being published
  gets `attempts + 1` and the whole relay backs off exponentially (capped), instead of hammering a broken
  bus on every commit.

A process crash at any point leaves every committed-but-unacknowledged row unpublished (or its PostgreSQL
lock released), and a starting relay drains that backlog before it waits for anything.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from atrium.config import Settings
from atrium.db.session import Database
from atrium.events.bus import Bus, DeliveryFailed, Envelope, open_bus
from atrium.events.models import InboxEntry, OutboxEvent
from atrium.events.outbox import outbox_written
from atrium.kit import clock
from atrium.logs import get_logger

log = get_logger("atrium.events.relay")

BATCH_SIZE = 100
MAX_BACKOFF_S = 30.0  # the whole relay, while the bus is unavailable
MAX_ROW_BACKOFF_S = 300.0  # one event that its consumers keep refusing


def backoff_s(failures: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff: base, 2·base, 4·base, … capped. `failures` counts from 1."""
    return min(cap_s, max(base_s, 0.05) * 2 ** min(max(failures, 1) - 1, 30))


@dataclass
class DrainResult:
    published: int = 0
    refused: list[int] = field(default_factory=list)  # seqs a consumer refused (per-row retry)
    unavailable: bool = False  # the pass stopped early because the bus (or database) failed
    completed: bool = False  # it walked to the end of the backlog (not stopped, not unavailable)
    seen: set[int] = field(default_factory=set)


@dataclass
class _Batch:
    published: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    broken: int | None = None  # the seq whose publish found the bus unavailable

    @property
    def unavailable(self) -> bool:
        return self.broken is not None

    @property
    def failed(self) -> list[int]:
        return self.refused + ([self.broken] if self.broken is not None else [])


def relay_once(db: Database, bus: Bus | None = None, *, batch_size: int = BATCH_SIZE) -> int:
    """Publish every unpublished outbox row now (tests, the CLI, the demo seeder); returns how many went.

    Events that the consumers record while this runs are published too. Without a bus, the one the settings
    ask for is opened (with every domain's handlers) and closed again.
    """
    own = bus is None
    the_bus = open_bus(db) if bus is None else bus
    try:
        return drain(db, the_bus, batch_size=batch_size).published
    finally:
        if own:
            the_bus.close()


def drain(
    db: Database,
    bus: Bus,
    *,
    batch_size: int = BATCH_SIZE,
    not_before: dict[int, float] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DrainResult:
    """One pass over the unpublished rows in `seq` order. `not_before` maps seq → monotonic retry time."""
    result = DrainResult()
    held: set[str] = set()  # aggregates with an earlier event that failed or waits in this pass
    cursor = 0
    while not should_stop():
        rows, batch = _relay_batch(db, bus, cursor, batch_size, held, not_before or {})
        result.seen.update(rows)
        result.published += len(batch.published)
        result.refused += batch.refused
        if batch.unavailable:
            result.unavailable = True
            break
        if not rows:
            result.completed = True
            break
        # Go on past a short batch too: consumers may have recorded events while it was published.
        cursor = rows[-1]
    return result


def _relay_batch(
    db: Database, bus: Bus, cursor: int, limit: int, held: set[str], not_before: dict[int, float]
) -> tuple[list[int], _Batch]:
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.published_at.is_(None), OutboxEvent.seq > cursor)
        .order_by(OutboxEvent.seq)
        .limit(limit)
    )
    if db.is_sqlite:
        with db.read_session() as rs:
            envelopes = [Envelope.from_row(r) for r in rs.scalars(query)]
        batch = _publish(bus, envelopes, held, not_before)
        if batch.published or batch.failed:
            with db.unit_of_work() as session:
                _mark(session, batch)
        return [e.seq for e in envelopes if e.seq is not None], batch
    with db.unit_of_work() as session:
        # The locks are held while publishing: a row another relay is on is skipped, never sent twice.
        envelopes = [Envelope.from_row(r) for r in session.scalars(query.with_for_update(skip_locked=True))]
        batch = _publish(bus, envelopes, held, not_before)
        _mark(session, batch)
    return [e.seq for e in envelopes if e.seq is not None], batch


def _publish(bus: Bus, envelopes: list[Envelope], held: set[str], not_before: dict[int, float]) -> _Batch:
    batch = _Batch()
    now = time.monotonic()
    for env in envelopes:
        assert env.seq is not None
        if (env.aggregate_id is not None and env.aggregate_id in held) or not_before.get(env.seq, 0) > now:
            if env.aggregate_id is not None:
                held.add(env.aggregate_id)
            continue
        try:
            bus.publish(env)
        except DeliveryFailed:
            # Logged by the bus with the consumer's name; this event waits, others go on.
            batch.refused.append(env.seq)
            if env.aggregate_id is not None:
                held.add(env.aggregate_id)
            continue
        except Exception as exc:
            log.warning(
                "publish_failed",
                bus=bus.name,
                event_id=env.id,
                event_type=env.type,
                seq=env.seq,
                error=type(exc).__name__,
            )
            batch.broken = env.seq
            break
        batch.published.append(env.seq)
    return batch


def _mark(session: Session, batch: _Batch) -> None:
    if batch.published:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.seq.in_(batch.published), OutboxEvent.published_at.is_(None))
            .values(published_at=clock.now())
        )
    if batch.failed:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.seq.in_(batch.failed))
            .values(attempts=OutboxEvent.attempts + 1)
        )


class Relay:
    """The relay of a serving process: a thread that drains the outbox whenever a commit wrote to it
    (`outbox_written`) and otherwise every `interval_s`, backing off while the bus is unavailable."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        interval_s: float = 0.5,
        batch_size: int = BATCH_SIZE,
        max_backoff_s: float = MAX_BACKOFF_S,
        drain_timeout_s: float = 5.0,
    ) -> None:
        self.db = db
        self.bus = bus
        self.interval_s = interval_s
        self.batch_size = batch_size
        self.max_backoff_s = max_backoff_s
        self.drain_timeout_s = drain_timeout_s
        self.published = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._not_before: dict[int, float] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """The loop; returns after `request_stop()` once the final drain is done."""
        failures = 0
        log.info("relay_started", bus=self.bus.name)
        while not self._stopping.is_set():
            outbox_written.clear()  # before the pass: a commit during it wakes the next one
            result = self._drain(self._stopping.is_set)
            if result.unavailable:
                failures += 1
                if self._stopping.wait(backoff_s(failures, self.interval_s, self.max_backoff_s)):
                    break
                continue
            failures = 0
            outbox_written.wait(self.interval_s)
        deadline = time.monotonic() + self.drain_timeout_s
        self._drain(lambda: time.monotonic() > deadline)
        log.info("relay_stopped", published=self.published)

    def _drain(self, should_stop: Callable[[], bool]) -> DrainResult:
        try:
            result = drain(
                self.db, self.bus, batch_size=self.batch_size, not_before=self._not_before,
                should_stop=should_stop,
            )
            self.published += result.published
            self._schedule_retries(result)
            return result
        except Exception as exc:  # the database went away: back off like an unavailable bus
            log.warning("relay_pass_failed", error=type(exc).__name__, exc_info=True)
            return DrainResult(unavailable=True)

    def _schedule_retries(self, result: DrainResult) -> None:
        if result.completed:
            # Rows no longer unpublished (ours, or another relay's) need no retry time.
            for seq in list(self._not_before):
                if seq not in result.seen:
                    del self._not_before[seq]
        if not result.refused:
            return
        with self.db.read_session() as s:
            refused = s.execute(
                select(OutboxEvent.seq, OutboxEvent.attempts).where(OutboxEvent.seq.in_(result.refused))
            ).all()
        now = time.monotonic()
        for seq, attempts in refused:
            self._not_before[seq] = now + backoff_s(attempts, self.interval_s, MAX_ROW_BACKOFF_S)

    def request_stop(self) -> None:
        self._stopping.set()
        outbox_written.set()  # wake the loop if it is waiting for work

    def stop_blocking(self) -> None:
        """Stop the loop after a final drain (bounded by `drain_timeout_s`), then close the bus."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(self.drain_timeout_s + 30)
        self.bus.close()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)


async def start_relay(db: Database, settings: Settings) -> Relay:
    """Start the relay thread (it drains the backlog first) and, on NATS, the durable consumers.

    Does not wait for the broker: a serving process starts while NATS is down, and events wait in the
    outbox until it is back.
    """
    bus = open_bus(db, settings.events)
    relay = Relay(db, bus, interval_s=settings.events.relay_interval_s)
    relay.start()
    bus.start_consumers()
    return relay


def serve_relay(db: Database, settings: Settings) -> int:
    """`atrium events relay`: run the relay (and the NATS consumers) in the foreground until SIGINT or
    SIGTERM, then drain and stop. Returns how many events it published."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    bus = open_bus(db, settings.events)
    relay = Relay(db, bus, interval_s=settings.events.relay_interval_s)
    try:
        relay.start()
        bus.start_consumers()
        while not stop.wait(1.0):
            pass
    finally:
        relay.stop_blocking()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return relay.published


@dataclass(frozen=True)
class OutboxStatus:
    unpublished: int
    retrying: int  # unpublished rows that failed at least once
    max_attempts: int
    oldest_unpublished_at: datetime | None
    published: int
    last_seq: int | None
    inbox: dict[str, int]  # events handled, by consumer

    def describe(self) -> str:
        oldest = self.oldest_unpublished_at.isoformat() if self.oldest_unpublished_at else "-"
        lines = [
            f"published:   {self.published} (last seq {self.last_seq if self.last_seq is not None else '-'})",
            f"unpublished: {self.unpublished} (oldest {oldest})",
            f"retrying:    {self.retrying} (most attempts {self.max_attempts})",
            "inbox:" + ("" if self.inbox else " -"),
        ]
        lines += [f"  {name}: {count}" for name, count in sorted(self.inbox.items())]
        return "\n".join(lines)


def outbox_status(db: Database) -> OutboxStatus:
    with db.read_session() as s:
        pending = OutboxEvent.published_at.is_(None)
        unpublished, retrying, max_attempts, oldest = s.execute(
            select(
                func.count(),
                func.count().filter(OutboxEvent.attempts > 0),
                func.coalesce(func.max(OutboxEvent.attempts), 0),
                func.min(OutboxEvent.occurred_at),
            ).where(pending)
        ).one()
        published, last_seq = s.execute(
            select(func.count(), func.max(OutboxEvent.seq)).where(OutboxEvent.published_at.is_not(None))
        ).one()
        inbox = dict(s.execute(select(InboxEntry.consumer, func.count()).group_by(InboxEntry.consumer)).all())
    return OutboxStatus(unpublished, retrying, max_attempts, oldest, published, last_seq, inbox)
