"""The decider (atrium.risk.endpoints.decider): a worker hands its decisions to one process over a Unix
socket and answers exactly as if it had decided them itself; without the decider, or when its connection
is lost, the worker decides in process, and a decision the decider committed is replayed, never made
twice."""

from __future__ import annotations

import asyncio
import shutil
import struct
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from atrium.config import get_settings
from atrium.risk import channel_clients
from atrium.risk import service as risk
from atrium.risk.endpoints import decider, decider_process, log
from atrium.risk.service import setup, state
from tests.risk.test_endpoints import URL, auth, authorisation, issue, problem


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    for reset in (state.reset, setup.clear, channel_clients.key_cache.clear, decider.forget):
        reset()
    yield
    log.close()
    for reset in (state.reset, setup.clear, channel_clients.key_cache.clear, decider.forget):
        reset()


@pytest.fixture()
def socket_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where the workers look for the decider (a short path: a Unix socket's is at most 107 bytes)."""
    folder = tempfile.mkdtemp(prefix="atrium-test-")
    path = str(Path(folder) / "decider.sock")
    monkeypatch.setattr(get_settings().risk_api, "decider_socket", path)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def run(app, scenario: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:  # type: ignore[no-untyped-def]
    """`scenario` against the app on one event loop (the decider, when a test starts one, shares it)."""

    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await scenario(http)

    return asyncio.run(main())


def test_decisions_go_through_the_decider_and_are_answered_as_in_process(app, db, socket_path) -> None:  # type: ignore[no-untyped-def]
    client, key = issue(db)

    async def scenario(http: httpx.AsyncClient) -> tuple[list[httpx.Response], int]:
        server = decider_process.DeciderServer(socket_path)
        await server.start()
        try:
            first = await http.post(URL, json=authorisation(), headers=auth(key))
            again = await http.post(URL, json=authorisation(), headers=auth(key))
            changed = await http.post(URL, json=authorisation(amount_minor=99), headers=auth(key))
            zh = await http.post(URL, json=authorisation(transaction_id="T-zh"),
                                 headers=auth(key, **{"Accept-Language": "zh"}))
        finally:
            await server.stop()
        return [first, again, changed, zh], server.answered

    (first, again, changed, zh), answered = run(app, scenario)
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() | {"replayed": False} == first.json()
    problem(changed, 409, "risk-subject-reused")  # the decider's refusal, raised by the worker as its own
    assert zh.status_code == 201 and zh.headers["content-language"] == "zh"
    assert answered >= 4  # every one was decided (or refused) by the decider
    with db.read_session() as s:
        logged = risk.decision_for_subject(s, "card", client.namespace("T-0001"))
    assert logged is not None and logged.id == first.json()["id"]


def test_without_a_decider_the_worker_decides_itself(app, db, socket_path) -> None:  # type: ignore[no-untyped-def]
    _, key = issue(db)  # nothing listens on socket_path

    async def scenario(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post(URL, json=authorisation(), headers=auth(key))

    r = run(app, scenario)
    assert r.status_code == 201, r.text


def test_a_decider_that_stops_leaves_its_decisions_to_be_replayed(app, db, socket_path) -> None:  # type: ignore[no-untyped-def]
    client, key = issue(db)

    async def scenario(http: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response, int]:
        server = decider_process.DeciderServer(socket_path)
        await server.start()
        first = await http.post(URL, json=authorisation(), headers=auth(key))
        await server.stop()
        await asyncio.sleep(0)  # the worker's reader sees the connection close
        retry = await http.post(URL, json=authorisation(), headers=auth(key))
        return first, retry, server.answered

    first, retry, answered = run(app, scenario)
    assert answered == 1 and first.status_code == 201
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]  # in process: a replay
    with db.read_session() as s:
        assert risk.decision_for_subject(s, "card", client.namespace("T-0001")).id == first.json()["id"]


def test_a_connection_lost_after_the_commit_never_decides_twice(app, db, socket_path) -> None:  # type: ignore[no-untyped-def]
    """The decider commits the decision and goes away before answering: the worker, left without an
    answer, decides in process — and finds the decision by its subject, so there is still one."""
    client, key = issue(db)

    async def scenario(http: httpx.AsyncClient) -> httpx.Response:
        async def commit_then_vanish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            _request_id, _kind, body = await decider._frame(reader)
            await log.current().screen(decider.RiskEventIn.model_validate_json(body))  # committed
            writer.close()  # … and no answer

        server = await asyncio.start_unix_server(commit_then_vanish, path=socket_path)
        try:
            return await http.post(URL, json=authorisation(), headers=auth(key))
        finally:
            server.close()

    r = run(app, scenario)
    assert r.status_code in (200, 201), r.text
    with db.read_session() as s:
        logged = risk.decision_for_subject(s, "card", client.namespace("T-0001"))
    assert logged is not None and logged.id == r.json()["id"]


def test_a_malformed_frame_drops_that_connection_only(db, socket_path) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> tuple[bytes, bool]:
        server = decider_process.DeciderServer(socket_path)
        await server.start()
        try:
            reader, writer = await asyncio.open_unix_connection(socket_path)
            writer.write(struct.pack("!IQB", decider.MAX_FRAME + 1, 1, decider.SCREEN))  # too large
            dropped = await asyncio.wait_for(reader.read(), 5)
            reader2, writer2 = await asyncio.open_unix_connection(socket_path)  # the decider still serves
            writer2.write(decider._pack(2, 99, b"{}"))  # an unknown kind
            dropped2 = await asyncio.wait_for(reader2.read(), 5)
            writer.close()
            writer2.close()
            return dropped + dropped2, server._server is not None and server._server.is_serving()
        finally:
            await server.stop()

    data, serving = asyncio.run(scenario())
    assert data == b"" and serving  # closed without an answer; the server kept listening


def test_a_refusal_comes_back_as_the_same_problem() -> None:
    from atrium.risk.errors import SubjectConflict

    known = decider._refusal({"error": "SubjectConflict", "detail": "card T-1 was decided with others"})
    assert isinstance(known, SubjectConflict) and known.detail.startswith("card T-1")
    other = decider._refusal({"error": "SomethingNew", "detail": "no", "status": 422, "code": "nope",
                              "title": "Not here"})
    assert (other.status, other.code, other.title, other.detail) == (422, "nope", "Not here", "no")


def test_frames_however_a_read_cuts_them_are_each_answered_once(db, socket_path) -> None:  # type: ignore[no-untyped-def]
    """The decider parses every frame a read brings and keeps a partial one for the next read: three
    requests in one write, the last cut in two, a fourth whose body does not validate — four answers, each
    with its own request id, and the three valid ones are logged."""
    events = [decider.RiskEventIn(channel="card", subject_ref=f"cut:{i}", amount_minor=1_000 + i,
                                  card_ref=f"card-{i}", terminal_id="term-1") for i in range(3)]
    frames = [decider._pack(10 + i, decider.SCREEN, e.model_dump_json().encode())
              for i, e in enumerate(events)]
    frames.append(decider._pack(13, decider.SCREEN, b'{"channel": "card"}'))  # no subject: FAILED

    async def scenario() -> dict[int, tuple[int, bytes]]:
        server = decider_process.DeciderServer(socket_path)
        await server.start()
        try:
            reader, writer = await asyncio.open_unix_connection(socket_path)
            joined = b"".join(frames[:3])
            writer.write(joined[:-7])  # the third frame's last bytes come with the next write
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(joined[-7:] + frames[3])
            answers = {}
            while len(answers) < 4:
                request_id, kind, body = await asyncio.wait_for(decider._frame(reader), 10)
                assert request_id not in answers
                answers[request_id] = (kind, body)
            writer.close()
            return answers
        finally:
            await server.stop()

    answers = asyncio.run(scenario())
    assert sorted(answers) == [10, 11, 12, 13]
    assert [answers[10 + i][0] for i in range(3)] == [decider.DECIDED] * 3
    for i in range(3):
        assert decider.DecisionRead.model_validate_json(answers[10 + i][1]).subject_ref == f"cut:{i}"
    assert answers[13][0] == decider.FAILED
    with db.read_session() as s:
        assert [risk.decision_for_subject(s, "card", f"cut:{i}") is not None for i in range(3)] == [True] * 3


def test_frames_read_together_are_decided_as_one_batch_in_the_loops_thread(db, socket_path) -> None:  # type: ignore[no-untyped-def]
    """What one read brings is one batch: decided, logged in one transaction and answered in one turn of the
    decider's event loop, with no writer thread (the log is inline)."""
    events = [decider.RiskEventIn(channel="card", subject_ref=f"together:{i}", amount_minor=2_000 + i,
                                  card_ref=f"card-{i % 3}", terminal_id="term-2") for i in range(8)]
    frames = b"".join(decider._pack(100 + i, decider.SCREEN, e.model_dump_json().encode())
                      for i, e in enumerate(events))

    async def scenario() -> dict[int, int]:
        server = decider_process.DeciderServer(socket_path)
        await server.start()
        try:
            reader, writer = await asyncio.open_unix_connection(socket_path)
            writer.write(frames)
            answers = {}
            while len(answers) < len(events):
                request_id, kind, _body = await asyncio.wait_for(decider._frame(reader), 10)
                answers[request_id] = kind
            writer.close()
            return answers
        finally:
            await server.stop()

    answers = asyncio.run(scenario())
    assert answers == {100 + i: decider.DECIDED for i in range(8)}
    stats = log.current(inline=True).committer.stats
    assert (stats.batches, stats.units, stats.applied_whole) == (1, 8, 1)
    assert log.current(inline=True).committer._threads == []


def test_the_decider_raises_its_priority_or_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from structlog.testing import capture_logs

    assert decider_process.prioritise(0) is False  # 0: left alone

    calls: list[tuple[int, int, int]] = []
    monkeypatch.setattr(decider_process.os, "setpriority", lambda *a: calls.append(a))
    monkeypatch.setattr(decider_process.os, "getpriority", lambda *a: -10)
    assert decider_process.prioritise(-10) is True
    assert calls == [(decider_process.os.PRIO_PROCESS, 0, -10)]

    def refused(*_a: int) -> None:
        raise PermissionError("not permitted")

    monkeypatch.setattr(decider_process.os, "setpriority", refused)
    with capture_logs() as logs:
        assert decider_process.prioritise(-10) is False
    assert [e["event"] for e in logs] == ["risk_decider_priority_unchanged"]
    assert "LimitNICE" in logs[0]["hint"]


def test_a_priority_set_before_a_thread_starts_is_the_threads_too() -> None:
    """Why `main` sets it first: on Linux a nice value belongs to the thread that set it and the threads it
    starts afterwards. A higher value (a lower priority) needs no privilege, so it is tried for real."""
    import os
    import threading

    seen: dict[str, int] = {}
    before = os.getpriority(os.PRIO_PROCESS, 0)
    lower = min(19, before + 5)

    def starter() -> None:
        assert decider_process.prioritise(lower)
        child = threading.Thread(target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS, 0)))
        child.start()
        child.join()
        seen["starter"] = os.getpriority(os.PRIO_PROCESS, 0)

    thread = threading.Thread(target=starter)
    thread.start()
    thread.join()
    assert seen == {"starter": lower, "child": lower}
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # this thread kept its own
