"""The concurrency test's load: a plan of transfer requests with hot spots and duplicates, and the worker
threads that send them through `Database.run`, spread over a few processes.

Why processes: one `payments.service.transfer` costs about 30 SQL statements and most of its time is
Python (SQLAlchemy) under the GIL, so 8 threads in one process would use one core while PostgreSQL idles on
the other. The 8 worker threads therefore run in PROCESSES spawned processes (4 threads each); each process
has its own engine, and all of them are released together by one barrier.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from atrium.db.session import Database
from atrium.payments import service as payments
from atrium.payments.errors import InsufficientFunds
from atrium.payments.schemas import AtriumDestination, OwnDestination, TransferRead
from tests.system import world

PROCESSES = 2


@dataclass(frozen=True)
class Send:
    key: str
    customer_id: str
    source: str
    destination: str
    to: OwnDestination | AtriumDestination
    amount_minor: int


@dataclass(frozen=True)
class Plan:
    rows: list[list[Send]]  # one row per worker thread, in order
    twins: set[str]  # keys that two workers send at the same step, meeting at a barrier first

    @property
    def sends(self) -> dict[str, Send]:
        return {s.key: s for row in self.rows for s in row}


@dataclass
class Results:
    answers: dict[str, list[TransferRead]] = field(default_factory=lambda: defaultdict(list))  # key → answers
    refused: Counter[str] = field(default_factory=Counter)  # key → InsufficientFunds answers
    errors: list[str] = field(default_factory=list)  # anything else a worker received
    db_errors: Counter[str] = field(default_factory=Counter)  # SQLSTATE → count, retried ones included

    def merge(self, other: Results) -> None:
        for key, answers in other.answers.items():
            self.answers[key].extend(answers)
        self.refused.update(other.refused)
        self.errors += other.errors
        self.db_errors.update(other.db_errors)


def make_plan(
    bank: world.Bank, rng: random.Random, *, workers: int, per_worker: int, hot: int, hot_share: float,
    twin_rate: float, retry_rate: float,
) -> Plan:
    """`workers` rows of `per_worker` sends. At each step a worker gets a new request; with `twin_rate` the
    same request also goes to another worker of its process at the same step, with `retry_rate` the worker
    sends it again 1 to 5 steps later. Accounts are picked from `hot` hot ones with `hot_share`."""
    ids = [a.id for a in bank.accounts]
    per_customer = len(ids) // len(bank.usernames)
    hot_ids = ids[::per_customer][:hot]  # one per customer: their limit counters are hot too
    by_id = {a.id: a for a in bank.accounts}
    group = max(1, workers // PROCESSES)

    def pick(exclude: str | None = None) -> str:
        while True:
            chosen = rng.choice(hot_ids) if rng.random() < hot_share else rng.choice(ids)
            if chosen != exclude:
                return chosen

    def new_send(n: int) -> Send:
        source = by_id[pick()]
        target = by_id[pick(exclude=source.id)]
        to: OwnDestination | AtriumDestination = (
            OwnDestination(type="own", account_id=target.id)
            if target.customer_id == source.customer_id
            else AtriumDestination(type="atrium", account_number=target.number)
        )
        amount = rng.randint(100, 20_000)
        return Send(f"sys-conc-{n:05d}", source.customer_id, source.id, target.id, to, amount)

    grid: list[list[Send | None]] = [[None] * per_worker for _ in range(workers)]
    twins: set[str] = set()
    n = 0
    for step in range(per_worker):
        for w in range(workers):
            if grid[w][step] is not None:
                continue
            send = grid[w][step] = new_send(n)
            n += 1
            roll = rng.random()
            if roll < twin_rate:
                # A partner in the same process: the barrier the two meet at is a thread barrier.
                mates = range(w - w % group, w - w % group + group)
                free = [v for v in mates if v != w and grid[v][step] is None]
                if free:
                    grid[rng.choice(free)][step] = send
                    twins.add(send.key)
            elif roll < twin_rate + retry_rate:
                later = step + rng.randint(1, 5)
                if later < per_worker and grid[w][later] is None:
                    grid[w][later] = send
    rows = [[s for s in row if s is not None] for row in grid]
    assert all(len(row) == per_worker for row in rows)
    return Plan(rows=rows, twins=twins)


def _send_all(db: Database, row: list[Send], twins: dict[str, threading.Barrier], results: Results,
              lock: threading.Lock) -> None:
    for send in row:
        twin = twins.get(send.key)
        if twin is not None:
            # Both copies sit at the same step of their rows, so these waits cannot form a cycle.
            twin.wait()

        def use_case(session, send=send):  # type: ignore[no-untyped-def]
            return payments.transfer(
                session, customer_id=send.customer_id, idempotency_key=send.key, from_account_id=send.source,
                to=send.to, amount_minor=send.amount_minor, currency=world.CURRENCY, memo="system load",
                channel="branch",
            )

        try:
            answer = db.run(use_case)
        except InsufficientFunds:
            with lock:
                results.refused[send.key] += 1
        except Exception as exc:  # what a client would have received as a failure
            with lock:
                results.errors.append(f"{send.key}: {type(exc).__name__}: {str(exc)[:300]}")
        else:
            with lock:
                results.answers[send.key].append(answer)


def _process(url: str, rows: list[list[Send]], twin_keys: set[str], start: Any, out: Any) -> None:
    """One worker process: its threads, its engine; puts its Results (or a traceback) on `out`."""
    try:
        db = Database(url, pool_size=len(rows))
        results = Results()
        lock = threading.Lock()

        @event.listens_for(db.engine, "handle_error")
        def _count(ctx) -> None:  # type: ignore[no-untyped-def]
            with lock:
                results.db_errors[str(getattr(ctx.original_exception, "sqlstate", None))] += 1

        mine = {s.key for row in rows for s in row}
        twins = {k: threading.Barrier(2, timeout=60) for k in twin_keys & mine}
        threads = [threading.Thread(target=_send_all, args=(db, row, twins, results, lock)) for row in rows]
        start.wait(120)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        db.dispose()
        out.put(results)
    except BaseException:
        out.put(traceback.format_exc())
        raise


def run(url: str, plan: Plan, *, timeout_s: float = 280.0) -> Results:
    """Send the plan from PROCESSES processes released together; the merged results of all of them."""
    ctx = multiprocessing.get_context("spawn")  # not fork: the test process has threads and an engine
    start = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    group = len(plan.rows) // PROCESSES
    procs = [
        ctx.Process(target=_process, args=(url, plan.rows[p * group:(p + 1) * group], plan.twins, start, out),
                    daemon=True, name=f"system-load-{p}")
        for p in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    merged = Results()
    try:
        for _ in procs:
            part = out.get(timeout=timeout_s)
            if isinstance(part, str):
                raise RuntimeError(f"a load process failed:\n{part}")
            merged.merge(part)
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
    return merged
