"""The decider: one process decides the decision API's transactions for all of a server's workers.

Why
---
Each worker process used to decide its own requests with a feature state of its own. Every worker then
observes every event twice over — its own as it decides them, the others' by reading them back from the
decision log (`FeatureCache._tail`) — and the workers' writer threads queue for SQLite's one write lock.
Measured with `atrium bench risk` (two workers, SQLite): ~590 µs of CPU per decision against ~440 µs for one
worker, so two workers gave ~1.2× one worker's decisions a second, not 2×. With a decider, the workers only
speak HTTP (parse, authenticate, validate, render) and hand each decision to one process, whose feature
state sees every event once and whose one group commit logs them all: the work that does not divide
among workers is done once.

How
---
`atrium serve --workers N` (N > 1) starts the decider before the workers (`atrium.serving`) and tells them
its Unix socket (`risk_api.decider_socket`, 0600, in a private temporary folder). A worker keeps one
connection to it; requests and answers are frames `(length, request id, kind)` + JSON, answered in any
order, so one connection carries all of a worker's decisions in flight:

- `SCREEN` carries a `RiskEventIn`; the decider (`decider_process`) gathers what its event loop read into
  one batch and runs it in that thread — the one decision path (`screen_many`), the same group commit,
  "answered ⇒ committed" — and answers `DECIDED` with the `DecisionRead`, or `REFUSED` with the error of
  a refused request (a changed retry: `SubjectConflict`), which the worker raises as its own (the same
  class, so the same RFC 9457 problem);
- anything else going wrong in the decider answers `FAILED`: the worker raises `DeciderFailed` and the
  request gets the server's usual 500, as a fault of the in-process path would.

When the decider cannot be reached — not started (a single worker, tests, `risk_api.decider_socket`
unset), not listening yet, or its connection lost — a worker decides in process, exactly as before; that
path reads other processes' decisions from the log, so the two may mix safely. A decision in flight on a
lost connection (or one unanswered for `ANSWER_TIMEOUT_S`) may have been committed by the decider: the
worker's retry in process finds it by its subject and returns it (a replay), never a second decision.

The socket is the process boundary's only door: 0600 in a 0700 folder, so only the server's own user
reaches it, and a frame larger than `MAX_FRAME` or of an unknown kind drops that connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import struct
import time
from typing import Any

from atrium.config import get_settings
from atrium.kit import errors as kit_errors
from atrium.kit.errors import AtriumError
from atrium.logs import get_logger
from atrium.risk import errors as risk_errors
from atrium.risk.schemas import DecisionRead, RiskEventIn

log = get_logger("atrium.risk.decider")

FRAME = struct.Struct("!IQB")  # payload length, request id, kind
SCREEN, DECIDED, REFUSED, FAILED = 1, 2, 3, 4
MAX_FRAME = 1 << 20
RECONNECT_S = 1.0  # after a failed connection, decide in process this long before trying again
ANSWER_TIMEOUT_S = 30.0  # a decider this late is stuck: decide in process (a replay if it committed)


class DeciderFailed(RuntimeError):
    """The decider met an unexpected error deciding this request (it logged it)."""


class _Lost(Exception):
    """The connection to the decider is gone; what was in flight is of unknown fate."""


async def _frame(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    size, request_id, kind = FRAME.unpack(await reader.readexactly(FRAME.size))
    if size > MAX_FRAME:
        raise ConnectionError(f"a frame of {size} bytes")
    return request_id, kind, await reader.readexactly(size)


def _pack(request_id: int, kind: int, payload: bytes) -> bytes:
    return FRAME.pack(len(payload), request_id, kind) + payload


def _refusal(refused: dict[str, Any]) -> AtriumError:
    """The decider's refusal as the worker's own error: the same class when it is one of risk's or the
    kit's, else an AtriumError with the same status, code and title (the same problem response)."""
    name = str(refused.get("error", ""))
    cls = getattr(risk_errors, name, None) or getattr(kit_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, AtriumError):
        return cls(str(refused.get("detail", "")))
    error = AtriumError(str(refused.get("detail", "")))
    error.status, error.code, error.title = (int(refused.get("status", 400)), str(refused.get("code", "")),
                                             str(refused.get("title", "")))
    return error


def _too_late(answer: asyncio.Future[tuple[int, bytes]]) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError(f"no answer from the decider within {ANSWER_TIMEOUT_S} s"))


# ---- the worker's side --------------------------------------------------------------------------------


class DeciderClient:
    """One connection from this process (its event loop) to the decider, shared by all its requests."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.loop = asyncio.get_running_loop()
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self._ids = itertools.count(1)
        self._connecting = asyncio.Lock()
        self._retry_at = 0.0
        self._reader: asyncio.Task[None] | None = None
        self._out: list[bytes] = []  # frames to write at the end of this turn of the event loop

    async def screen(self, event: RiskEventIn) -> DecisionRead | None:
        """The decider's decision for `event`, or None: decide it in this process (see the module)."""
        writer = await self._connection()
        if writer is None:
            return None
        request_id = next(self._ids)
        answer: asyncio.Future[tuple[int, bytes]] = self.loop.create_future()
        self._pending[request_id] = answer
        # One write per turn of the event loop for all the requests it started (not one send each), and a
        # plain timer rather than `wait_for`'s wrapping of every answer.
        if not self._out:
            self.loop.call_soon(self._flush, writer)
        self._out.append(_pack(request_id, SCREEN, event.model_dump_json().encode()))
        timer = self.loop.call_later(ANSWER_TIMEOUT_S, _too_late, answer)
        try:
            kind, body = await answer
        except (_Lost, ConnectionError, TimeoutError):
            return None
        finally:
            timer.cancel()
            self._pending.pop(request_id, None)
        if kind == DECIDED:
            return DecisionRead.model_validate_json(body)
        refused = json.loads(body)
        if kind == REFUSED:
            raise _refusal(refused)
        raise DeciderFailed(f"the decider failed: {refused.get('error')}")

    def _flush(self, writer: asyncio.StreamWriter) -> None:
        if self._out and not writer.is_closing():  # closing: the reader fails what is pending
            writer.write(b"".join(self._out))
        self._out.clear()

    async def _connection(self) -> asyncio.StreamWriter | None:
        if self._writer is not None and not self._writer.is_closing():
            return self._writer
        if time.monotonic() < self._retry_at:
            return None
        async with self._connecting:
            if self._writer is not None and not self._writer.is_closing():
                return self._writer
            try:
                reader, writer = await asyncio.open_unix_connection(self.path)
            except OSError as exc:
                self._retry_at = time.monotonic() + RECONNECT_S
                log.warning("risk_decider_unreachable", socket=self.path, error=type(exc).__name__)
                return None
            self._writer = writer
            self._reader = self.loop.create_task(self._read(reader, writer))
            log.info("risk_decider_connected", socket=self.path)
            return writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_id, kind, body = await _frame(reader)
                answer = self._pending.get(request_id)
                if answer is not None and not answer.done():
                    answer.set_result((kind, body))
        except (asyncio.IncompleteReadError, ConnectionError, struct.error) as exc:
            if self._pending:
                log.warning("risk_decider_lost", in_flight=len(self._pending), error=type(exc).__name__)
        finally:
            if self._writer is writer:
                self._writer = None
                self._retry_at = time.monotonic() + RECONNECT_S
            writer.close()
            for answer in list(self._pending.values()):
                if not answer.done():
                    answer.set_exception(_Lost())

    def close(self) -> None:
        """Close the connection (its reader then fails what is in flight: those decide in process)."""
        if self._writer is not None:
            with contextlib.suppress(RuntimeError):  # its event loop is closed: so is the connection
                self._writer.close()


_client: DeciderClient | None = None


def forget() -> None:
    """Drop this process's connection to the decider (tests; a new one is made on the next decision)."""
    global _client
    if _client is not None:
        _client.close()
    _client = None


async def screen(event: RiskEventIn) -> DecisionRead | None:
    """The decider's decision for `event`, or None when this process should decide it itself."""
    global _client
    path = get_settings().risk_api.decider_socket
    if not path:
        return None
    client = _client
    if client is None or client.path != path or client.loop is not asyncio.get_running_loop():
        client = _client = DeciderClient(path)
    return await client.screen(event)
