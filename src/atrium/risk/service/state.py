"""The process's feature state: an in-memory `FeatureState` kept equal to what the decision log says.

The log (`risk_decisions` + `risk_labels`) is the truth; the cache is a view of it. Invariant: for every
entity marked *loaded*, the state holds every committed logged event of that entity inside the retention
(30 days + the label delay) that this process has learned of, and every arrived label of those events —
and it learns of every committed event, as follows:

1. Warm on a miss. Before deciding an event, each of its entities that is not loaded is read from the log
   (its events in the retention, with their labels) and replayed into the state. `FeatureState.observe`
   is idempotent on the event id, so events already held (through another entity) are not counted twice.
2. Nothing rolled back stays in the state. The engine computes features on a read-only view and never
   adds the event itself; events enter the state from log reads, which run in the caller's session and
   so see committed rows and that session's own uncommitted ones (decisions batched in one transaction
   see each other, as velocity features need). Each row a session writes is tracked with the
   transaction (or savepoint) that wrote it; if that rolls back after a cache read the row, the cache
   starts over as after a restart (below) — rollbacks are rare, ghosts would be wrong forever. (Starting
   over also re-reads the log's end: SQLite hands a rolled-back position out again.)
3. Tail the log for other processes' writes. Every decision first reads the log rows past the highest
   position (`seq`) seen so far and observes those touching a loaded entity. Positions are assigned when a
   row is inserted but become visible at commit, so on PostgreSQL a later position can be visible before
   an earlier one: a skipped position is remembered as a gap and asked for again until it appears or
   `risk.gap_timeout_s` passes (its transaction rolled back) — on each read for its first second, then
   once a second (most gaps older than that never fill). On SQLite one writer at a time
   makes positions visible in order. Labels are tailed the same way; of two labels of one event the one
   that arrived last wins, whatever order they are read in. With `risk.state_refresh_ms` > 0 the log is
   read at most that often: decisions (this process's too) then count from the next read, a bounded
   staleness traded for one query less per decision.
4. A batch observes its own events. The decision log's group commit decides a batch of decisions at
   once (`screening.screen_many`): each event is observed right after its decision, so the next one of
   the batch counts it, and the rows are then inserted and registered (`logged`) with their transaction
   — a rollback drops the state as in rule 2 — and their positions, which the tail then skips instead of
   reading this process's own writes back. Until the batch commits, another writer thread of the process
   deciding meanwhile counts those events too: they are committed but for a rollback, which drops the
   state. If anything fails between observing and registering, the batch drops the state itself. (The
   decider's log writer: `committed` once it acknowledged the COMMIT; a batch it did not write drops it.)

Why it is correct after a restart: a new process starts with nothing loaded and its position at the log's
end (positions missing just below the end are taken as gaps: transactions in flight at start), so every
entity it uses is read from the committed log first — the same state an old process holds. Tests check
this: two caches over one database, and a fresh cache against a long-lived one, give identical features.

Caveats, by design: a transaction that stays uncommitted longer than `risk.gap_timeout_s` after a
later position became visible is seen by other processes only when they next warm its entities; and the
features stay exact only while the `FeatureState` invariant holds that nothing before its retention
matters.

Memory stays bounded: what no window can reach is evicted every few minutes, and past
`risk.max_cached_entities` the state is dropped and rebuilt lazily from the log (correct by rule 1).
All state changes happen under `lock`; the screening service holds it around the engine.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from atrium.config import get_settings
from atrium.kit import clock
from atrium.risk import repository
from atrium.risk.domain.events import ENTITY_KINDS, RiskEvent
from atrium.risk.domain.features import FeatureState

_BATCH = 1000  # log rows read per round trip
_START_WINDOW = 1000  # positions below the end checked for in-flight transactions at start
_MAX_GAPS = 1000
_GAP_EAGER_S = 1.0  # a skipped position is asked for on every read this long, then once per this long
_EVICT_EVERY_S = 300.0
_OWN = "risk_own_rows"  # session.info key: rows this session wrote, not yet committed


class _Cursor:
    """How far one log has been read: the highest position seen and the positions skipped below it."""

    __slots__ = ("checked_at", "gaps", "high")

    def __init__(self) -> None:
        self.high = 0
        self.gaps: dict[int, float] = {}  # position → monotonic time it was first missed
        self.checked_at = -1e18

    def due(self, now: float) -> list[int]:
        """The skipped positions to ask for on this read: those first missed within `_GAP_EAGER_S` every
        time (a transaction in flight commits within milliseconds), all of them once per `_GAP_EAGER_S`.
        Most old gaps never fill — a rolled-back insert, a sequence value an `ON CONFLICT` burned, the
        positions a truncated log skipped — and asking for a thousand of them on every read cost the
        decision path more than the reads themselves."""
        if not self.gaps:
            return []
        if now - self.checked_at >= _GAP_EAGER_S:
            self.checked_at = now
            return list(self.gaps)
        return [p for p, first in self.gaps.items() if now - first < _GAP_EAGER_S]

    def start(self, high: int, present: list[int], now: float) -> None:
        self.high = high
        seen = set(present)
        self.gaps = {p: now for p in range(max(1, high - _START_WINDOW + 1), high + 1) if p not in seen}

    def see(self, seq: int, now: float) -> None:
        if seq in self.gaps:
            del self.gaps[seq]
        elif seq > self.high:
            for missing in range(max(self.high + 1, seq - _MAX_GAPS), seq):
                self.gaps[missing] = now
            self.high = seq

    def expire(self, now: float, timeout: float) -> None:
        if self.gaps:
            self.gaps = {p: t for p, t in self.gaps.items() if now - t < timeout}


class ReadOnlyState:
    """What the engine sees: features from the shared state; its `observe` does nothing, because the
    event enters the state once the log shows it committed (rule 2 above)."""

    __slots__ = ("_state",)

    def __init__(self, state: FeatureState) -> None:
        self._state = state

    def features(self, event: RiskEvent) -> dict[str, float]:
        return self._state.features(event)

    def observe(self, event: RiskEvent, habit: float = math.nan) -> None:
        """Deliberately nothing: see the class docstring."""


class FeatureCache:
    def __init__(self) -> None:
        settings = get_settings().risk
        self.label_delay_s = settings.label_delay_days * 86400.0
        self.horizon_s = settings.horizon_days * 86400.0
        self.utc_offset_s = settings.utc_offset_h * 3600.0
        self.lock = threading.Lock()
        self._reset()
        self._events = _Cursor()
        self._labels = _Cursor()
        self._started = False
        self._invalid = False
        self._written: deque[int] = deque()  # positions of rows this process logged (rule 4), to skip
        self._refreshed_at = -1e18
        self._evicted_at = time.monotonic()
        self.resets = 0
        # Where the last `prepare` spent its time (the fail-policy warning's diagnostics).
        self.last_prepare: dict[str, float] = {}

    def _reset(self) -> None:
        self.state = FeatureState(self.label_delay_s, utc_offset_s=self.utc_offset_s,
                                  horizon_s=self.horizon_s)
        self.view = ReadOnlyState(self.state)
        self._loaded: set[tuple[str, str]] = set()
        self._label_at: dict[str, float] = {}

    # ---- keeping up with the log (call with `lock` held) ------------------------------------------------

    def prepare(self, session: Session, event: RiskEvent | Sequence[RiskEvent]) -> None:
        """Bring every entity of `event` (or of each of several events) up to date with the committed log."""
        events = (event,) if isinstance(event, RiskEvent) else event
        settings = get_settings().risk
        now = time.monotonic()
        if self._invalid:  # a row this cache read was rolled back (rule 2): start over, as after a restart
            self._invalid = False
            self._reset()
            self._started = False  # SQLite hands a rolled-back position out again: re-read the log's end
            self._written.clear()
            self.resets += 1
        if not self._started:
            self._start(session, now)
        while self._written:  # this process's own rows, already observed (rule 4): never read back
            self._events.see(self._written.popleft(), now)
        tail_rows = 0
        if now - self._refreshed_at >= settings.state_refresh_ms / 1000:
            tail_rows = self._tail(session, now, settings.gap_timeout_s)
            self._refreshed_at = now
        tailed = time.monotonic()
        if now - self._evicted_at >= _EVICT_EVERY_S:
            self.evict()
        if self.state.entities_cached() > settings.max_cached_entities:
            self._reset()
            self.resets += 1
        missing = list(dict.fromkeys(
            (kind, key) for e in events for kind in ENTITY_KINDS
            if (key := e.entity(kind)) is not None and (kind, key) not in self._loaded))
        warmed_rows = 0
        if missing:
            at = min(min(e.at for e in events), clock.now().timestamp())
            warmed_rows = self._warm(session, missing, at)
        self.last_prepare = {"tail_ms": (tailed - now) * 1000, "tail_rows": tail_rows,
                             "warm_ms": (time.monotonic() - tailed) * 1000, "warmed": len(missing),
                             "warmed_rows": warmed_rows}

    def features(self, session: Session, event: RiskEvent) -> dict[str, float]:
        """The event's features as of the log (prepares first). Takes the lock."""
        with self.lock:
            self.prepare(session, event)
            return self.state.features(event)

    def _start(self, session: Session, now: float) -> None:
        high = repository.max_decision_seq(session)
        self._events.start(high, repository.positions_since(session, high - _START_WINDOW), now)
        high = repository.max_label_seq(session)
        self._labels.start(high, repository.label_positions_since(session, high - _START_WINDOW), now)
        self._started = True

    def _warm(self, session: Session, entities: list[tuple[str, str]], at: float) -> int:
        since = datetime.fromtimestamp(at - self.state.retention_s, UTC)
        events: dict[str, RiskEvent] = {}
        habits: dict[str, float] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, key in entities:
            by_kind.setdefault(kind, []).append(key)
        for kind, keys in by_kind.items():
            for row in repository.entities_events(session, kind, keys, since):
                if row.id not in events:
                    events[row.id] = repository.event_of_row(row)
                    habits[row.id] = repository.habit_of_row(session, row, events[row.id])
        self.state.warm(events.values(), habits=habits)
        for row in repository.labels_for(session, events):
            self._label(row.decision_id, row.fraud, row.arrived_at.timestamp())
        own = session.info.get(_OWN)
        if own:
            self._note_own(own, events)
            self._note_own(own, [row.id for row in repository.labels_for(session, events)])
        self._loaded.update(entities)
        return len(events)

    def _note_own(self, own: dict[str, _Own], ids: object) -> None:
        for row_id in ids:  # type: ignore[attr-defined]
            entry = own.get(row_id)
            if entry is not None:
                entry.readers.add(self)

    def invalidate(self) -> None:
        """Drop the state before the next decision (safe from any thread: a flag read under the lock)."""
        self._invalid = True

    def logged(self, session: Session, positions: dict[str, int]) -> None:
        """Rows this process just logged (decision id → position), whose events the state already observed
        (rule 4): the tail skips their positions, and a rollback of the transaction that wrote them drops
        the state. Safe without the lock (the positions are taken at the next `prepare`)."""
        for row_id in positions:
            written(session, row_id)
            session.info[_OWN][row_id].readers.add(self)
        self._written.extend(sorted(positions.values()))

    def committed(self, positions: dict[str, int]) -> None:
        """`logged` for rows another process (the decider's log writer) committed: nothing to roll back."""
        self._written.extend(sorted(positions.values()))

    def _tail(self, session: Session, now: float, gap_timeout: float) -> int:
        """Observe what other processes logged since the last read; how many log rows were read."""
        self._events.expire(now, gap_timeout)
        self._labels.expire(now, gap_timeout)
        rows = self._observe_rows(session, repository.events_at(session, self._events.due(now)), now)
        while True:
            after = repository.events_after(session, self._events.high, limit=_BATCH)
            read = self._observe_rows(session, after, now)
            rows += read
            if read < _BATCH:
                break
        self._label_rows(session, repository.labels_at(session, self._labels.due(now)), now)
        while self._label_rows(session, repository.labels_after(session, self._labels.high, limit=_BATCH),
                               now) == _BATCH:
            pass
        return rows

    def _observe_rows(self, session: Session, rows: Sequence[Any], now: float) -> int:
        own = session.info.get(_OWN)
        for row in rows:
            self._events.see(row.seq, now)
            if own:  # read before it committed: observed or not, the cursor moved past it
                self._note_own(own, (row.id,))
            event = repository.event_of_row(row)
            if self._touches_loaded(event):
                self.state.observe(event, repository.habit_of_row(session, row, event))
        return len(rows)

    def _label_rows(self, session: Session, rows: Sequence[Any], now: float) -> int:
        own = session.info.get(_OWN)
        for row in rows:
            self._labels.see(row.seq, now)
            self._label(row.decision_id, row.fraud, row.arrived_at.timestamp())
            if own:
                self._note_own(own, (row.id,))
        return len(rows)

    def _touches_loaded(self, event: RiskEvent) -> bool:
        loaded = self._loaded
        return any((kind, key) in loaded for kind in ENTITY_KINDS if (key := event.entity(kind)) is not None)

    def _label(self, event_id: str, fraud: bool, arrived_at: float) -> None:
        if arrived_at < self._label_at.get(event_id, -1e18):
            return  # an older label read after a newer one: the newer stands
        if self.state.label(event_id, fraud, arrived_at):
            self._label_at[event_id] = arrived_at

    def evict(self) -> None:
        """Drop what no window reaches any more, and forget entities with nothing left."""
        self.state.evict(clock.now().timestamp())
        self._loaded = {(kind, key) for kind, key in self._loaded if self.state.has(kind, key)}
        self._label_at = {e: t for e, t in self._label_at.items() if self.state.has_event(e)}
        self._evicted_at = time.monotonic()

    @property
    def loaded(self) -> int:
        return len(self._loaded)

    @property
    def gaps(self) -> int:
        """Log positions skipped and still asked for on each read (rule 3): a diagnostic."""
        return len(self._events.gaps) + len(self._labels.gaps)


# ---- rows written by a session, until it commits ----------------------------------------------------------


class _Own:
    __slots__ = ("readers", "transaction")

    def __init__(self, transaction: SessionTransaction | None) -> None:
        self.transaction = transaction
        self.readers: set[FeatureCache] = set()


def written(session: Session, row_id: str) -> None:
    """Record that `session` wrote the log row `row_id` (a decision or a label), in its innermost
    transaction: if that rolls back, every cache that read the row is dropped."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_OWN, {})[row_id] = _Own(transaction)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@sa_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction():  # a released savepoint also says "commit": not durable yet
        session.info.pop(_OWN, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A transaction or savepoint rolled back: the rows written inside it are gone."""
    own: dict[str, _Own] | None = session.info.get(_OWN)
    if not own:
        return
    for row_id in [r for r, entry in own.items() if _within(entry.transaction, previous_transaction)]:
        for cache in own.pop(row_id).readers:
            cache.invalidate()
    if not own:
        session.info.pop(_OWN, None)


# ---- the process-wide cache ------------------------------------------------------------------------------

_cache: FeatureCache | None = None
_cache_lock = threading.Lock()


def current() -> FeatureCache:
    global _cache
    with _cache_lock:
        if _cache is None:
            _cache = FeatureCache()
        return _cache


def reset() -> None:
    """Forget the process's cache (a restart, for tests)."""
    global _cache
    with _cache_lock:
        _cache = None


@contextmanager
def using(cache: FeatureCache) -> Iterator[FeatureCache]:
    """Screen with `cache` instead of the process's own (tests simulate a second process with it)."""
    global _cache
    with _cache_lock:
        previous, _cache = _cache, cache
    try:
        yield cache
    finally:
        with _cache_lock:
            _cache = previous
