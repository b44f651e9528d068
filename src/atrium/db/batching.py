"""Group commit: many units of work, one database transaction, one COMMIT.

Why: each COMMIT waits for the write-ahead log to reach the disk, and each transaction holds its row locks
until its COMMIT returns, so a hot account takes about one transfer per commit latency however many clients
there are. One transaction per batch pays the commit once and locks a hot row once (docs/architecture.md,
"Group commit"; `atrium bench ledger` measures it).

Isolation of failures: each unit of work runs inside `session.begin_nested()` (SAVEPOINT … RELEASE). A unit
that raises — a domain error such as insufficient funds, a constraint violation — rolls back to its savepoint
only; its caller gets the exception and the rest of the batch commits. A transient error (deadlock,
serialization failure, SQLite "database is locked") aborts the whole batch, which is retried from scratch:
nothing of it was committed and every unit of work must be idempotent and re-runnable (the same rule
`Database.run` imposes). If COMMIT itself fails for a non-transient reason (a deferred constraint trigger, a
lost connection), the batch is split and each unit re-runs in a transaction of its own, so the one bad unit
fails alone.

"Answered ⇒ committed": a caller gets its value or its exception only after its batch's COMMIT returned (a
failed unit's too: a retried batch re-runs every unit). A crash before the COMMIT answers nobody; one after
it leaves the committed-but-unanswered window, which the idempotent retry closes.

Writers: SQLite allows exactly one writer thread. On PostgreSQL several may run batches side by side, kept
disjoint by *conflict keys* the caller declares (`submit(fn, keys=(…))`, e.g. the accounts and customer a
transfer locks): a unit whose keys a writer's queued or running batch holds joins that writer; one whose
keys span two writers waits until one of them finishes. Disjoint batches never wait on each other's row
locks and cannot deadlock. Units without keys go round robin and rely on the database's locks and retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from atrium.db.session import Database, is_transient

T = TypeVar("T")

Work = Callable[[Session], Any]


@dataclass(eq=False)
class _Item:
    fn: Work
    keys: frozenset[Hashable]
    request: Any = None
    future: Future[Any] = field(default_factory=Future)
    writer: int = -1
    waiter: asyncio.Future[Any] | None = None  # submit_async's caller, woken with its batch's (_wake_loops)


@dataclass
class CommitterStats:  # counters for a benchmark or a metrics endpoint
    batches: int = 0
    units: int = 0
    failed_units: int = 0
    retried_batches: int = 0
    split_batches: int = 0
    largest_batch: int = 0
    applied_whole: int = 0  # batches that `apply_batch` applied in one go
    applied_fallback: int = 0  # batches `apply_batch` refused, re-run unit by unit

    def count(self, size: int, failed: int) -> None:
        self.batches, self.units = self.batches + 1, self.units + size
        self.largest_batch, self.failed_units = max(self.largest_batch, size), self.failed_units + failed

    @property
    def mean_batch(self) -> float:
        return self.units / self.batches if self.batches else 0.0


def _wake_loops(batch: list[_Item]) -> None:
    """Hand each event loop its waiters' outcomes (settled futures) in one call."""
    loops: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
    for item in batch:
        if item.waiter is not None:
            loops.setdefault(item.waiter.get_loop(), []).append(item)
    for loop, items in loops.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[_Item]) -> None:
    for item in items:
        if item.waiter is not None and not item.waiter.done():  # done: cancelled meanwhile
            if (exc := item.future.exception()) is not None:
                item.waiter.set_exception(exc)
            else:
                item.waiter.set_result(item.future.result())


_UNIT_BY_UNIT = object()  # a batch that `apply_batch` does not take as a whole


class _BatchAborted(Exception):
    """A transient error inside a unit: the whole batch must be rolled back and retried."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class GroupCommitter:
    """Run submitted units of work in batches: one transaction and one COMMIT per batch.

    `max_batch` caps the units in one transaction (bounds lock hold time and the cost of a retry). On
    PostgreSQL keep `max_batch × savepoints per unit` at or under 64: past 64 subtransaction ids the
    transaction's snapshot entry overflows and every other session's visibility checks get slower.
    `max_wait_ms` is how long a writer lingers for more units once it holds fewer than `max_batch` — 0 means
    "take what is queued": while one batch commits, the next one gathers, so batches grow with the load
    without adding latency at low load.

    On PostgreSQL `writers=2` or more overlap Python's work with the database's, their batches kept disjoint
    by the keys. Set-wise batches save what PostgreSQL's shared WAL flush does not: round trips. Callers may
    hand in a `request` (plain data) with their unit; when every unit of a batch has one, the writer first
    tries `apply_batch(session, requests)` — one pass, e.g. `ledger.post_transfers`: one lock statement and
    one multi-row INSERT — in one savepoint, each caller getting its element of the returned list. If it
    refuses (any non-transient error), the batch runs unit by unit, so one bad request still fails alone.

    `prepare_batch` moves work out of the transaction: called with the requests before BEGIN, its result
    is what `apply_batch` gets on every attempt (if it raises, the batch runs unit by unit). On SQLite, whose
    write lock a transaction holds from BEGIN, the decision log thus decides outside the lock."""

    def __init__(self, db: Database, *, max_batch: int = 64, max_wait_ms: float = 0.0, writers: int = 1,
                 attempts: int = 5, apply_batch: Callable[[Session, Any], list[Any]] | None = None,
                 prepare_batch: Callable[[list[Any]], Any] | None = None, name: str = "group-commit") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if writers < 1:
            raise ValueError("writers must be at least 1")
        if db.is_sqlite and writers != 1:
            raise ValueError("SQLite has one writer at a time: a GroupCommitter on SQLite takes writers=1")
        self.db, self.max_batch, self.max_wait_s = db, max_batch, max_wait_ms / 1000.0
        self.attempts, self.apply_batch, self.prepare_batch = attempts, apply_batch, prepare_batch
        self.stats = CommitterStats()
        self._lock = threading.Lock()
        self._wake = [threading.Condition(self._lock) for _ in range(writers)]
        self._queues: list[deque[_Item]] = [deque() for _ in range(writers)]
        self._load = [0] * writers  # units queued or running per writer
        self._owner: dict[Hashable, tuple[int, int]] = {}  # key -> (writer, units holding it)
        self._blocked: deque[_Item] = deque()  # units whose keys span two writers
        self._round_robin = itertools.cycle(range(writers))
        self._closed = False
        self._threads = self._start_writers(name, writers)

    def _start_writers(self, name: str, writers: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._writer_loop, args=(i,), name=f"{name}-{i}", daemon=True)
                   for i in range(writers)]
        for thread in threads:
            thread.start()
        return threads

    # -- callers --------------------------------------------------------------------------------------

    def submit(self, fn: Callable[[Session], T], *, keys: Iterable[Hashable] = (), request: Any = None,
               timeout: float | None = None) -> T:
        """Run `fn(session)` in the next batch; return its value (or raise its exception) once committed.

        `keys`: what the unit locks (see the module docstring); `request`: the same unit as data for
        `apply_batch`, which must then return what `fn` would have.
        """
        return self.submit_future(fn, keys=keys, request=request).result(timeout)

    async def submit_async(self, fn: Callable[[Session], T], *, keys: Iterable[Hashable] = (),
                           request: Any = None) -> T:
        """The same for an event loop: awaits the committed result without blocking the loop. A batch's
        waiters on one loop are woken together (one `call_soon_threadsafe`, not one per unit: each is a
        write to the loop's wake-up pipe, made by the writer thread between two batches)."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future = self.submit_future(fn, keys=keys, request=request, waiter=waiter)
        waiter.add_done_callback(lambda w: future.cancel() if w.cancelled() else None)
        return await waiter

    def submit_future(self, fn: Callable[[Session], T], *, keys: Iterable[Hashable] = (),
                      request: Any = None, waiter: asyncio.Future[T] | None = None) -> Future[T]:
        item = _Item(fn, frozenset(keys), request, waiter=waiter)
        with self._lock:
            if self._closed:
                raise RuntimeError("the group committer is closed")
            self._dispatch(item)
        return item.future

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop taking work, finish (commit) everything already submitted, stop the writers."""
        with self._lock:
            self._closed = True
            for cond in self._wake:
                cond.notify_all()
        for t in self._threads:
            t.join(timeout)

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- dispatch (under self._lock) ------------------------------------------------------------------

    def _dispatch(self, item: _Item) -> None:
        # A unit that shares a key with a waiting unit waits behind it: arrival order per key is kept and
        # the waiting unit cannot be starved by a stream of newcomers on either of its writers.
        waits_behind = len(self._queues) > 1 and bool(self._blocked and item.keys & self._blocked_keys())
        if waits_behind or not self._place(item):
            self._blocked.append(item)

    def _blocked_keys(self) -> set[Hashable]:
        return set().union(*(i.keys for i in self._blocked))

    def _place(self, item: _Item) -> bool:
        """Give `item` to a writer whose batches cannot conflict with the others'; False if it must wait."""
        n = len(self._queues)
        if n == 1:
            writer = 0
        else:
            holders = {self._owner[k][0] for k in item.keys if k in self._owner}
            if len(holders) > 1:
                return False
            if holders:
                writer = holders.pop()
            elif item.keys:
                writer = min(range(n), key=self._load.__getitem__)
            else:
                writer = next(self._round_robin)
        for k in item.keys:
            _, count = self._owner.get(k, (writer, 0))
            self._owner[k] = (writer, count + 1)
        item.writer = writer
        self._load[writer] += 1
        self._queues[writer].append(item)
        self._wake[writer].notify()
        return True

    def _release(self, batch: list[_Item]) -> None:
        """The batch is done (under self._lock): free its keys and place the units that waited on them."""
        for item in batch:
            self._load[item.writer] -= 1
            for k in item.keys:
                w, count = self._owner[k]
                if count == 1:
                    del self._owner[k]
                else:
                    self._owner[k] = (w, count - 1)
        if self._blocked:
            waiting, self._blocked = self._blocked, deque()
            for item in waiting:
                if (self._blocked and item.keys & self._blocked_keys()) or not self._place(item):
                    self._blocked.append(item)
        if self._closed:
            for cond in self._wake:
                cond.notify_all()

    # -- writers --------------------------------------------------------------------------------------

    def _next_batch(self, writer: int) -> list[_Item] | None:
        queue, cond = self._queues[writer], self._wake[writer]
        with self._lock:
            while True:
                while not queue:
                    if self._closed and not self._blocked:
                        return None
                    cond.wait(0.1 if self._closed else None)
                batch = self._take(queue, self.max_batch)
                if len(batch) < self.max_batch and self.max_wait_s > 0:
                    deadline = time.monotonic() + self.max_wait_s
                    while len(batch) < self.max_batch:
                        remaining = deadline - time.monotonic()
                        if not queue and (remaining <= 0 or not cond.wait(remaining)):
                            break
                        batch += self._take(queue, self.max_batch - len(batch))
                if batch:
                    return batch

    def _take(self, queue: deque[_Item], limit: int) -> list[_Item]:
        """Pop up to `limit` units, dropping those whose caller cancelled before they started."""
        taken: list[_Item] = []
        while queue and len(taken) < limit:
            item = queue.popleft()
            if item.future.set_running_or_notify_cancel():
                taken.append(item)
            else:
                self._release([item])
        return taken

    def _writer_loop(self, writer: int) -> None:
        while (batch := self._next_batch(writer)) is not None:
            try:
                outcomes = self._run_batch(batch, self._prepare(batch))
            except BaseException as exc:  # a batch that cannot commit: every caller learns why
                outcomes = [(False, exc)] * len(batch)
            self._finish(batch, outcomes)

    def _finish(self, batch: list[_Item], outcomes: list[tuple[bool, Any]]) -> None:
        """The batch committed (or could not): free its keys, count it, answer its callers."""
        with self._lock:
            self._release(batch)
            self.stats.count(len(batch), sum(1 for ok, _ in outcomes if not ok))
        # Only now, after COMMIT, does any caller learn its outcome.
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)
        _wake_loops(batch)

    def _run_batch(self, batch: list[_Item], prepared: Any) -> list[tuple[bool, Any]]:
        st = self.stats
        for attempt in range(1, self.attempts + 1):
            try:
                outcomes = self._attempt(batch, prepared)
            except _BatchAborted as aborted:
                if attempt == self.attempts:
                    return [(False, aborted.cause)] * len(batch)
                with self._lock:
                    st.retried_batches += 1
                time.sleep(0.002 * 2**attempt)
                continue
            except DBAPIError as exc:  # raised by COMMIT
                if is_transient(exc) and attempt < self.attempts:
                    with self._lock:
                        st.retried_batches += 1
                    time.sleep(0.002 * 2**attempt)
                    continue
                with self._lock:
                    st.split_batches += 1
                outcomes = [self._alone(item) for item in batch]
            return outcomes
        raise AssertionError("unreachable")

    def _settable(self, batch: list[_Item]) -> bool:
        return self.apply_batch is not None and len(batch) >= 2 and all(i.request is not None for i in batch)

    def _prepare(self, batch: list[_Item]) -> Any:
        """What `apply_batch` gets: `prepare_batch`'s result, the requests themselves, or _UNIT_BY_UNIT."""
        if not self._settable(batch):
            return _UNIT_BY_UNIT
        requests = [i.request for i in batch]
        if self.prepare_batch is None:
            return requests
        try:
            return self.prepare_batch(requests)
        except Exception:
            with self._lock:
                self.stats.applied_fallback += 1
            return _UNIT_BY_UNIT

    def _attempt(self, batch: list[_Item], prepared: Any) -> list[tuple[bool, Any]]:
        with self.db.session() as session:
            try:
                outcomes = self._whole(session, batch, prepared)
                if outcomes is None:
                    outcomes = [self._unit(session, item.fn) for item in batch]
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return outcomes

    def _whole(self, session: Session, batch: list[_Item], prepared: Any) -> list[tuple[bool, Any]] | None:
        """`apply_batch` over the prepared batch in one savepoint; None if it does not apply or refuses."""
        if prepared is _UNIT_BY_UNIT or self.apply_batch is None:
            return None
        try:
            with session.begin_nested():
                values = self.apply_batch(session, prepared)
        except Exception as exc:
            if isinstance(exc, DBAPIError) and is_transient(exc):
                raise _BatchAborted(exc) from exc
            with self._lock:
                self.stats.applied_fallback += 1
            return None
        if len(values) != len(batch):
            raise RuntimeError("apply_batch must return one result per request")
        with self._lock:
            self.stats.applied_whole += 1
        return [(True, v) for v in values]

    def _unit(self, session: Session, fn: Work) -> tuple[bool, Any]:
        try:
            with session.begin_nested():
                return True, fn(session)
        except Exception as exc:
            if isinstance(exc, DBAPIError) and is_transient(exc):
                raise _BatchAborted(exc) from exc
            return False, exc

    def _alone(self, item: _Item) -> tuple[bool, Any]:
        try:
            return True, self.db.run(item.fn, attempts=self.attempts)
        except Exception as exc:
            return False, exc
