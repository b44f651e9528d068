"""The decider's process: it decides the decision API's transactions for all of a server's workers.

The protocol, why there is one decider and the workers' side are in `atrium.risk.endpoints.decider`; this
is the other end of the socket, started by `atrium.serving` (`main`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atrium.config import get_settings
from atrium.kit.errors import AtriumError
from atrium.logs import get_logger
from atrium.risk.endpoints.decider import DECIDED, FAILED, FRAME, MAX_FRAME, REFUSED, SCREEN, _pack
from atrium.risk.endpoints.log_writer import RESTART_S, STOP_S, WRITTEN, Acknowledgement, LogWriter
from atrium.risk.schemas import RiskEventIn
from atrium.risk.service.screening import DecidedBatch

log = get_logger("atrium.risk.decider")

WriterFactory = Callable[[Callable[[Acknowledgement], None]], LogWriter]  # on_ack → a writer (tests)


class DeciderServer:
    """Answers workers' SCREEN frames with the decision log (the module docstring).

    In one thread, the event loop's: a connection parses every frame a read brings (`_Connection`) and
    queues it; once the loop has read what arrived, the queue is decided as one batch (`DecisionLog.decide`,
    the engine inline) and handed to the log writer (`log_writer`, a process of its own), which commits it
    while this thread decides the next; each batch is answered when the writer acknowledges its COMMIT — the
    answers of a batch leave in one write per connection, as the client's requests do. While a batch runs,
    the workers' next frames wait in the socket and make the next batch. Without a writer (`writer=False`,
    `risk_api.log_writer` off, or one lost until it is restarted), or for a batch the writer could not
    write, the batch is decided and logged here (`DecisionLog.screen_now`: the group commit's steps run
    inline). No thread: in one interpreter each hand-over between threads waits for the interpreter lock
    (measured in docs/risk.md, "The decider's wire" and "One thread")."""

    def __init__(self, path: str, *, writer: bool | WriterFactory = False) -> None:
        self.path = path
        self._server: asyncio.Server | None = None
        self._pending: list[tuple[_Connection, int, RiskEventIn]] = []
        self._connections: set[_Connection] = set()
        self.answered = 0
        # The log writer: `True` spawns the process for this process's database, a callable makes one
        # (tests), `False` logs in this thread.
        self._make_writer = writer
        self._writer: LogWriter | None = None
        self._writer_down_at = -1e18
        self._numbers = itertools.count(1)
        self._flight: deque[_Flight] = deque()  # sent to the writer, not acknowledged, oldest first
        self._subjects: set[tuple[str, str]] = set()  # their subjects
        self._redo: list[list[tuple[_Connection, int, RiskEventIn]]] = []  # failed or skipped: run here
        self._scheduled = False
        self.batches = 0  # batches taken from the queue (their mean size tells how much each COMMIT carries)
        self.taken = 0  # decisions in them
        self.written = 0  # batches the writer committed
        self.redone = 0  # batches it did not, run here instead

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _Connection(self), path=self.path)
        os.chmod(self.path, 0o600)
        self._start_writer()

    async def stop(self) -> None:
        """Stop listening, decide and answer what was received, then close the workers' connections (a
        worker then decides in process)."""
        if self._server is not None:
            self._server.close()
        deadline = time.monotonic() + STOP_S
        while self._pending or self._flight or self._redo:
            self._run()
            if self._flight:
                if self._writer is not None and time.monotonic() > deadline:
                    self._writer.abandon("no acknowledgement while stopping")  # what it had: run here
                await asyncio.sleep(0.001)  # the writer's acknowledgements arrive through the loop
        if self._writer is not None:
            self._writer.stop()
            await self._writer.stopped()
            self._writer = None
        await asyncio.sleep(0)  # the last answers are written
        for connection in list(self._connections):
            connection.close()
        await asyncio.sleep(0)  # the connections' readers see the end
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def screen(self, connection: _Connection, request_id: int, body: bytes) -> None:
        """Queue one SCREEN frame for the next batch; its answer follows that batch's COMMIT."""
        try:
            event = RiskEventIn.model_validate_json(body)
        except Exception as exc:  # a body that does not validate: FAILED, as a worker would 500
            connection.answer(request_id, *self._failed(exc))
            return
        self._pending.append((connection, request_id, event))
        self._schedule()

    def _schedule(self) -> None:
        """Run `_run` after the callbacks of this turn (every frame read meanwhile joins its batch)."""
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        """Decide up to one batch of what is queued: for the writer, or here (the class docstring)."""
        self._scheduled = False
        if self._redo:
            if self._flight:
                return  # after the acknowledgements in flight (one of them failed: the rest are skipped)
            self._run_redo()
        if not self._pending:
            return
        writer = self._current_writer()
        if writer is not None and writer.in_flight >= get_settings().risk_api.log_writer_in_flight:
            return  # the next acknowledgement runs it
        from atrium.risk.endpoints import log as decision_log

        decisions = decision_log.current(inline=True)
        batch, self._pending = self._pending[:decisions.max_batch], self._pending[decisions.max_batch:]
        subjects = _subjects(batch)
        if writer is not None and not self._subjects.isdisjoint(subjects):
            self._pending[:0] = batch  # a retry of a subject in flight: after its COMMIT, here
            return
        self.batches += 1
        self.taken += len(batch)
        if self._pending:  # after this batch is handed over or answered and the next frames are read
            self._schedule()
        if writer is None:
            self._run_here(batch)
            return
        try:
            decided = decisions.decide([event for _connection, _id, event in batch])
        except Exception:  # a subject decided before, or repeated: replayed or refused one by one, here
            self._redo.append(batch)
            self._schedule()
            return
        number = next(self._numbers)
        if writer.send(number, decided.rows, decided.followed_up()):
            self._flight.append(_Flight(number, batch, decided, subjects))
            self._subjects.update(subjects)
        else:  # the writer is gone: the state observed a batch that is not logged; here, after the rest
            decided.cache.invalidate()
            self._redo.append(batch)
            self._schedule()

    def _run_here(self, batch: list[tuple[_Connection, int, RiskEventIn]]) -> None:
        """Decide, log and answer `batch` in this thread (no writer, or one the writer did not log)."""
        from atrium.risk.endpoints import log as decision_log

        try:
            outcomes = decision_log.current(inline=True).screen_now([event for _c, _id, event in batch])
        except Exception as exc:  # a closed log, a batch that could not run: FAILED, as a worker would 500
            outcomes = [(False, exc)] * len(batch)
        for (connection, request_id, _event), (ok, value) in zip(batch, outcomes, strict=True):
            connection.answer(request_id, *self._outcome(ok, value))

    def _run_redo(self) -> None:
        redo, self._redo = self._redo, []
        for batch in redo:
            self._run_here(batch)
        self.redone += len(redo)
        if self._writer is not None:  # it skipped everything after the batch that failed: write again
            self._writer.resume()

    def _acknowledged(self, ack: Acknowledgement) -> None:
        """The writer's answer for the oldest batch in flight: answer its callers, or run it here."""
        flight = self._flight.popleft()  # in order: the writer's end checks it
        self._subjects.difference_update(flight.subjects)
        if ack.status == WRITTEN:
            self.written += 1
            if flight.decided.observed:
                flight.decided.cache.committed(ack.positions)
            reads = flight.decided.reads(ack.case_ids)
            for (connection, request_id, _event), read in zip(flight.batch, reads, strict=True):
                connection.answer(request_id, DECIDED, read.model_dump_json().encode())
        else:  # not logged: its events (and those of the batches after it) leave the state
            flight.decided.cache.invalidate()
            self._redo.append(flight.batch)
        self._schedule()

    def _current_writer(self) -> LogWriter | None:
        if self._writer is not None and self._writer.lost:
            self._writer = None
            self._writer_down_at = time.monotonic()
        if self._writer is None and time.monotonic() - self._writer_down_at >= RESTART_S:
            self._start_writer()
        return self._writer

    def _start_writer(self) -> None:
        make = self._make_writer
        if make is False:
            return
        from atrium.db.runtime import get_db

        try:
            self._writer = (LogWriter.spawn(get_db().url, self._acknowledged) if make is True
                            else make(self._acknowledged))  # type: ignore[operator]
        except Exception as exc:  # no process: log here, and try again later
            log.error("risk_log_writer_not_started", error=type(exc).__name__, exc_info=exc)
            self._writer_down_at = time.monotonic()

    def _outcome(self, ok: bool, value: Any) -> tuple[int, bytes]:
        if ok:
            return DECIDED, value.model_dump_json().encode()
        if isinstance(value, AtriumError):
            return REFUSED, json.dumps({"error": type(value).__name__, "detail": value.detail,
                                        "status": value.status, "code": value.code,
                                        "title": value.title}).encode()
        return self._failed(value)

    def _failed(self, exc: BaseException) -> tuple[int, bytes]:
        log.error("risk_decider_failed", error=type(exc).__name__, exc_info=exc)
        return FAILED, json.dumps({"error": type(exc).__name__}).encode()


@dataclass
class _Flight:
    number: int
    batch: list[tuple[_Connection, int, RiskEventIn]]
    decided: DecidedBatch
    subjects: set[tuple[str, str]]


def _subjects(batch: list[tuple[_Connection, int, RiskEventIn]]) -> set[tuple[str, str]]:
    return {(event.channel, event.subject_ref) for _connection, _id, event in batch}


class _Connection(asyncio.Protocol):
    """One worker's connection: frames in (as many as each read brings), answers out (one write per turn
    of the event loop)."""

    def __init__(self, server: DeciderServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server._connections.add(self)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        try:
            while len(buffer) - start >= FRAME.size:
                size, request_id, kind = FRAME.unpack_from(buffer, start)
                if size > MAX_FRAME:
                    raise ConnectionError(f"a frame of {size} bytes")
                if kind != SCREEN:
                    raise ConnectionError(f"an unknown request kind {kind}")
                end = start + FRAME.size + size
                if len(buffer) < end:
                    break
                self.server.screen(self, request_id, bytes(buffer[start + FRAME.size:end]))
                start = end
        except ConnectionError as exc:
            log.warning("risk_decider_connection_dropped", error=type(exc).__name__, detail=str(exc))
            self.close()
        finally:
            del buffer[:start]

    def eof_received(self) -> bool:
        if self._buffer:
            log.warning("risk_decider_connection_dropped", error="IncompleteReadError")
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connections.discard(self)

    def answer(self, request_id: int, kind: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return  # the worker is gone; it decides in process (a replay, as this one is committed)
        self.server.answered += 1
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(_pack(request_id, kind, payload))

    def _flush(self) -> None:
        if self._out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self._out))
        self._out.clear()

    def close(self) -> None:
        self._flush()
        if self.transport is not None:
            self.transport.close()


def prioritise(nice: int) -> bool:
    """Set this thread's nice value — the decider's, before it starts any other thread, so they all share
    it (`risk_api.decider_nice`); whether it took effect. A priority the process may not take (no
    CAP_SYS_NICE, RLIMIT_NICE too low) is logged and left."""
    if nice == 0:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except (PermissionError, OSError) as exc:
        log.warning("risk_decider_priority_unchanged", nice=nice, error=type(exc).__name__,
                    hint="grant CAP_SYS_NICE or raise RLIMIT_NICE (systemd: LimitNICE=), or set "
                         "ATRIUM_RISK_API__DECIDER_NICE=0")
        return False
    log.info("risk_decider_prioritised", nice=os.getpriority(os.PRIO_PROCESS, 0))
    return True


def main(path: str) -> None:
    """The decider process (started by `atrium.serving`): serve until SIGTERM, then finish and commit what
    is in flight. SIGINT is ignored: Ctrl-C reaches the whole process group, and the decider must outlive
    the workers' graceful shutdown, which may still send it decisions; the supervisor sends SIGTERM once
    they are gone."""
    import sys

    from atrium.db.runtime import get_db
    from atrium.kit import collector
    from atrium.logs import configure_logging
    from atrium.risk.endpoints import log as decision_log
    from atrium.risk.service import setup

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = get_settings()
    configure_logging(settings.log_level, json_logs=settings.log_json)
    prioritise(settings.risk_api.decider_nice)  # first: the threads started below inherit it
    if settings.risk_api.gil_switch_ms:
        sys.setswitchinterval(settings.risk_api.gil_switch_ms / 1000)
    db = get_db()
    db.checkpoint_in_background(settings.database.sqlite_checkpoint_ms,
                                settings.database.sqlite_wal_restart_mb)
    setup.preload_at_start(db)  # LightGBM's import (1.7 s) before the first card decision, not during it
    collector.WATCH.install()
    collector.tune(settings.gc_young_threshold)

    async def serve() -> None:
        server = DeciderServer(path, writer=settings.risk_api.log_writer)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await server.start()
        if settings.gc_freeze:  # imported and set up: what is alive now lives as long as the process
            collector.freeze_static_heap()
        log.info("risk_decider_started", socket=path, pid=os.getpid())
        await stop.wait()
        await server.stop()
        decision_log.close()
        log.info("risk_decider_stopped", answered=server.answered, batches=server.batches,
                 mean_batch=round(server.taken / max(1, server.batches), 1), written=server.written,
                 redone=server.redone)

    try:
        asyncio.run(serve())
    finally:
        if (checkpointer := db.checkpointer) is not None:
            checkpointer.report()
        db.dispose()
