"""The decider's log writer: a process of its own that logs and commits the batches the decider decided.

Why
---
The decider (`decider_process`) is the one serial stage of every decision the API makes, and it ran at a
full core while the machine's other core had time to spare. A third of its time was the log's INSERT and
COMMIT — on SQLite the three random-key entity indexes (card, customer, terminal) dirty one page per row
and index, and the COMMIT copies those pages to the WAL — and another tenth building the INSERT's
parameters. A thread could not take that work: its hand-overs wait for the interpreter lock (measured
three times, docs/risk.md). A process can: with the writes here, the decider decides batch N+1 while this
process commits batch N.

How — the rules that keep "answered ⇒ committed"
-------------------------------------------------
- The decider decides a batch (`DecisionLog.decide`: its feature state observes the events, rule 4 of
  `risk.service.state`) and sends its rows here (`LogWriter.send`), at most `risk_api.log_writer_in_flight`
  batches ahead of the last acknowledgement. This process inserts each batch and acts on it
  (`screening.write_decided`: cases, outbox events) in one transaction, commits, and acknowledges with the
  rows' positions and case ids. Only then does the decider answer the batch's callers.
- Batches commit in the order they were decided. When one fails — another process decided one of its
  subjects meanwhile, or an error — it is rolled back and every later batch already sent is skipped, not
  written: it was decided on a state that counted the failed one. The decider drops its state, waits for
  what is in flight, decides the failed and skipped batches again itself, as it does without a writer
  (`DecisionLog.screen_now`: a subject decided meanwhile is replayed), then sends `RESUME`.
- If this process dies, what it had in flight is of unknown fate: those batches go the same way — one
  that did commit is found by its subjects and replayed, never decided twice — and the decider goes on
  without a writer, starting a new one after `RESTART_S`.

The two ends share an anonymous socket pair (`multiprocessing.Pipe`): only the decider and its child
reach it, so its pickled messages come from no one else.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.logs import get_logger
from atrium.risk.domain.decide import Decision
from atrium.risk.service import screening

log = get_logger("atrium.risk.log_writer")

BATCH, RESUME = 1, 2  # the decider's messages (None: stop)
WRITTEN, FAILED, SKIPPED = 1, 2, 3  # the writer's acknowledgements
RESTART_S = 5.0  # after losing the writer, the decider logs in its own thread this long before a new one
STOP_S = 30.0  # how long a stopping decider waits for the writer to finish what it was sent


# ---- the writer's process --------------------------------------------------------------------------------


def serve(connection: Connection, db: Database) -> int:
    """Write batches from `connection` until it closes or says stop; how many were written.

    The batches waiting when one arrives are written with it in one transaction — one COMMIT for all, as
    the decision log's group commit does for decisions: on PostgreSQL each COMMIT waits for its WAL flush.
    If that transaction fails, none of them is written: the first is acknowledged FAILED, the others
    SKIPPED, and so is everything after them until `RESUME`."""
    skipping = False
    written = 0
    stop = False
    while not stop:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return written
        batches: list[_Batch] = []
        while True:  # this message and those already waiting, up to a stop or a RESUME
            if message is None:
                stop = True
                break
            kind, number, rows, followed_up = message
            if kind == RESUME:
                break
            batches.append((number, rows, followed_up))
            if not connection.poll():
                break
            try:
                message = connection.recv()
            except (EOFError, OSError):
                stop = True
                break
        if batches and skipping:
            for number, _rows, _followed_up in batches:
                connection.send((number, SKIPPED, None))
        elif batches:
            try:
                results = db.run(functools.partial(_write, batches=batches))
            except Exception as exc:  # rolled back: these batches and those after them go back
                skipping = True
                if not isinstance(exc, screening.BatchRefused):
                    log.error("risk_log_writer_failed", batches=len(batches), error=type(exc).__name__,
                              exc_info=exc)
                for i, (number, _rows, _followed_up) in enumerate(batches):
                    connection.send((number, SKIPPED if i else FAILED, None))
            else:
                written += len(batches)
                for (number, _rows, _followed_up), result in zip(batches, results, strict=True):
                    connection.send((number, WRITTEN, result))
        if message is not None and message[0] == RESUME:
            skipping = False
    return written


_Batch = tuple[int, list[dict[str, Any]], dict[int, Decision]]  # number, rows, the decisions followed up


def _write(session: Session, batches: list[_Batch]) -> list[Any]:
    return [screening.write_decided(session, rows, followed_up) for _number, rows, followed_up in batches]


def main(connection: Connection, database_url: str) -> None:
    """The writer's process (started by `LogWriter.spawn`): the decider's database, SQLite's checkpoints
    left to the decider's thread (`Database.checkpoint_in_background`), SIGINT ignored like the decider's —
    it stops when the decider says so or goes away."""
    from atrium.config import get_settings
    from atrium.kit import collector
    from atrium.logs import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = get_settings()
    configure_logging(settings.log_level, json_logs=settings.log_json)
    db = Database(database_url)
    database = settings.database
    db.checkpoint_in_background(database.sqlite_checkpoint_ms, database.sqlite_wal_restart_mb, thread=False)
    # The collector as in every serving process (atrium.kit.collector): without it a full collection walked
    # the imported app's heap every ~2 s, and the transaction it interrupted took 80-105 ms instead of
    # ~5 — under `atrium bench risk` on PostgreSQL, a p99 twice the decider's in-thread one.
    watch = collector.WATCH.install()
    collector.tune(settings.gc_young_threshold)
    if settings.gc_freeze:
        collector.freeze_static_heap()
    try:
        written = serve(connection, db)
    finally:
        db.dispose()
    log.info("risk_log_writer_stopped", batches=written, gc=watch.summary())


# ---- the decider's side ----------------------------------------------------------------------------------


@dataclass
class Acknowledgement:
    number: int
    status: int  # WRITTEN, FAILED, SKIPPED, or FAILED for every batch in flight when the writer is lost
    positions: dict[str, int]
    case_ids: Mapping[int, str | None]


class LogWriter:
    """The decider's end: sends batches, and hands each acknowledgement, in order, to `on_ack` from the
    event loop (the connection is read when it is readable)."""

    def __init__(self, connection: Connection, on_ack: Callable[[Acknowledgement], None],
                 process: Any = None) -> None:
        self.connection = connection
        self.process = process
        self.on_ack = on_ack
        self.lost = False
        self._in_flight: list[int] = []
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(connection.fileno(), self._read)

    @classmethod
    def spawn(cls, database_url: str, on_ack: Callable[[Acknowledgement], None]) -> LogWriter:
        """A writer process for `database_url` (it inherits this process's priority)."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=main, args=(theirs, database_url), name="atrium-risk-log-writer",
                                  daemon=True)
        process.start()
        theirs.close()
        log.info("risk_log_writer_started", pid=process.pid)
        return cls(ours, on_ack, process)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def send(self, number: int, rows: list[dict[str, Any]], followed_up: dict[int, Decision]) -> bool:
        """Send a decided batch; False if the writer is gone (the batch was not sent)."""
        return self._send((BATCH, number, rows, followed_up), number)

    def resume(self) -> None:
        """Write again what comes next (after a failure, once the decider has run what was skipped)."""
        self._send((RESUME, 0, None, None), None)

    def _send(self, message: Any, number: int | None) -> bool:
        if self.lost:
            return False
        try:
            self.connection.send(message)
        except OSError:
            self.abandon("send")
            return False
        if number is not None:
            self._in_flight.append(number)
        return True

    def _read(self) -> None:
        try:
            while self.connection.poll():
                number, status, payload = self.connection.recv()
                if not self._in_flight or self._in_flight[0] != number:
                    raise OSError(f"an acknowledgement out of order: {number}")
                self._in_flight.pop(0)
                positions, case_ids = payload if status == WRITTEN else ({}, {})
                self.on_ack(Acknowledgement(number, status, positions, case_ids))
        except (EOFError, OSError) as exc:
            self.abandon(type(exc).__name__)

    def abandon(self, cause: str) -> None:
        """The writer is gone: every batch in flight is acknowledged FAILED (its fate is unknown)."""
        if self.lost:
            return
        self.lost = True
        self._loop.remove_reader(self.connection.fileno())
        log.error("risk_log_writer_lost", cause=cause, in_flight=len(self._in_flight))
        lost, self._in_flight = self._in_flight, []
        for number in lost:
            self.on_ack(Acknowledgement(number, FAILED, {}, {}))
        self.connection.close()
        if self.process is not None and self.process.is_alive():
            self.process.kill()

    def stop(self) -> None:
        """Ask the writer to finish what it was sent and stop (acknowledgements still arrive meanwhile)."""
        if not self.lost:
            try:
                self.connection.send(None)
            except OSError:
                self.abandon("send")

    async def stopped(self, timeout: float = STOP_S) -> None:
        """After `stop`, once everything sent was acknowledged: close this end and wait for the process."""
        if not self.lost:
            self.lost = True
            self._loop.remove_reader(self.connection.fileno())
            self.connection.close()
        if self.process is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.process.join, timeout)
            if self.process.is_alive():
                self.process.kill()
