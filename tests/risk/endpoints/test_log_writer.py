"""The decider's log writer (atrium.risk.endpoints.log_writer): the decider answers a batch only once the
writer committed it; a batch the writer could not write — a subject another process decided meanwhile — and
the batches sent after it are decided again by the decider itself, on a state that no longer counts them;
a writer lost with batches in flight leaves them to be replayed or decided, never decided twice."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from atrium.risk import repository
from atrium.risk.endpoints import decider, decider_process, log, log_writer
from atrium.risk.models import RiskDecision
from atrium.risk.service import screening, setup, state


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    for reset in (state.reset, setup.clear, decider.forget):
        reset()
    yield
    log.close()
    for reset in (state.reset, setup.clear, decider.forget):
        reset()


@pytest.fixture()
def socket_path() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="atrium-test-")
    yield str(Path(folder) / "decider.sock")
    shutil.rmtree(folder, ignore_errors=True)


def _event(subject: str, **overrides: Any) -> decider.RiskEventIn:
    return decider.RiskEventIn(**{"channel": "card", "subject_ref": subject, "amount_minor": 2_500,
                                  "card_ref": "card-7", "terminal_id": "term-3"} | overrides)


def _threaded_writer(db, serve: Callable[..., Any] = log_writer.serve):  # type: ignore[no-untyped-def]
    """A writer whose far end runs `serve` on a thread of this process (the protocol without a spawn)."""

    def make(on_ack: Callable[[log_writer.Acknowledgement], None]) -> log_writer.LogWriter:
        ours, theirs = multiprocessing.Pipe()
        threading.Thread(target=serve, args=(theirs, db), daemon=True).start()
        return log_writer.LogWriter(ours, on_ack)

    return make


async def _exchange(path: str, waves: list[list[decider.RiskEventIn]], *, pause: float = 0.1,
                    between: Callable[[], Any] | None = None) -> dict[str, tuple[int, bytes]]:
    """Send each wave of frames in one write (a wave is one batch), `pause` apart; every answer by subject."""
    reader, writer = await asyncio.open_unix_connection(path)
    subjects: dict[int, str] = {}
    for n, wave in enumerate(waves):
        frames = b""
        for i, event in enumerate(wave):
            subjects[100 * n + i] = event.subject_ref
            frames += decider._pack(100 * n + i, decider.SCREEN, event.model_dump_json().encode())
        writer.write(frames)
        await asyncio.sleep(pause)
    if between is not None:
        between()
    answers = {}
    while len(answers) < len(subjects):
        request_id, kind, body = await asyncio.wait_for(decider._frame(reader), 20)
        answers[subjects[request_id]] = (kind, body)
    writer.close()
    return answers


def _logged(db, subject: str) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return list(s.scalars(select(RiskDecision.id).where(RiskDecision.subject_ref == subject)))


def test_batches_are_written_by_the_writer_and_answered_after_its_commit(
        db, socket_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    write = screening.write_decided

    def held(session, rows, followed_up):  # type: ignore[no-untyped-def]
        assert gate.wait(10)
        return write(session, rows, followed_up)

    monkeypatch.setattr(screening, "write_decided", held)
    early: list[int] = []

    async def scenario() -> dict[str, tuple[int, bytes]]:
        server = decider_process.DeciderServer(socket_path, writer=_threaded_writer(db))
        await server.start()
        try:
            task = asyncio.ensure_future(_exchange(socket_path, [[_event(f"w:{i}") for i in range(5)]]))
            await asyncio.sleep(0.3)
            early.append(server.answered)  # decided, sent to the writer, not committed: nobody answered
            gate.set()
            answers = await task
            assert (server.written, server.redone) == (1, 0)
            return answers
        finally:
            gate.set()
            await server.stop()

    answers = asyncio.run(scenario())
    assert early == [0]
    for i in range(5):
        kind, body = answers[f"w:{i}"]
        assert kind == decider.DECIDED
        read = decider.DecisionRead.model_validate_json(body)
        assert _logged(db, f"w:{i}") == [read.id] and not read.replayed
    assert log.current(inline=True).committer.stats.batches == 0  # nothing was logged in the decider


def test_a_subject_decided_meanwhile_is_replayed_and_the_batches_after_it_decided_again(
        db, socket_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """While the writer holds batch 1, another process commits one of its subjects: the writer's INSERT
    refuses batch 1 and skips batch 2 (decided on a state that counted batch 1); the decider drops its
    state, replays the other process's decision and decides everything else again, each subject once."""
    gate = threading.Event()
    write = screening.write_decided
    rival: list[str] = []

    def racing(session, rows, followed_up):  # type: ignore[no-untyped-def]
        if not rival:
            assert gate.wait(10)
            theirs = dict(rows[0], id="rskd_theirs", subject_ref=rows[0]["subject_ref"])
            with db.session() as other:  # another process logs the same subject, with the same facts
                repository.insert_decisions(other, [theirs])
                other.commit()
            rival.append(theirs["id"])
        return write(session, rows, followed_up)

    monkeypatch.setattr(screening, "write_decided", racing)
    resets: list[int] = []

    async def scenario() -> tuple[dict[str, tuple[int, bytes]], int, int]:
        server = decider_process.DeciderServer(socket_path, writer=_threaded_writer(db))
        await server.start()
        try:
            answers = await _exchange(socket_path, [[_event("r:0"), _event("r:1")], [_event("r:2")]],
                                      between=gate.set)
            resets.append(state.current().resets)
            # The writer writes again: the next batch is its, not the decider's.
            later = await _exchange(socket_path, [[_event("r:3")]])
            return answers | later, server.written, server.redone
        finally:
            gate.set()
            await server.stop()

    answers, written, redone = asyncio.run(scenario())
    assert (written, redone) == (1, 2)  # r:3 written; batches 1 and 2 run in the decider
    assert resets == [1]  # the state that counted batch 1 was dropped once
    first = decider.DecisionRead.model_validate_json(answers["r:0"][1])
    assert answers["r:0"][0] == decider.DECIDED and first.replayed and first.id == rival[0]
    for subject in ("r:0", "r:1", "r:2", "r:3"):
        assert answers[subject][0] == decider.DECIDED
        assert _logged(db, subject) == [decider.DecisionRead.model_validate_json(answers[subject][1]).id]


def test_a_writer_lost_after_its_commit_never_decides_twice(db, socket_path) -> None:  # type: ignore[no-untyped-def]
    """The writer commits a batch and dies before acknowledging it: the decider replays the committed
    decisions by their subjects, then logs in its own thread until a new writer is due."""

    def commit_then_die(connection, db) -> None:  # type: ignore[no-untyped-def]
        _kind, _number, rows, followed_up = connection.recv()
        db.run(lambda s: screening.write_decided(s, rows, followed_up))
        connection.close()  # … and no acknowledgement

    async def scenario() -> tuple[dict[str, tuple[int, bytes]], bool]:
        server = decider_process.DeciderServer(socket_path, writer=_threaded_writer(db, commit_then_die))
        await server.start()
        try:
            answers = await _exchange(socket_path, [[_event("l:0"), _event("l:1")]])
            answers |= await _exchange(socket_path, [[_event("l:2")]])  # no writer now: logged here
            return answers, server._writer is None
        finally:
            await server.stop()

    answers, writerless = asyncio.run(scenario())
    assert writerless
    for subject in ("l:0", "l:1"):
        read = decider.DecisionRead.model_validate_json(answers[subject][1])
        assert answers[subject][0] == decider.DECIDED and read.replayed  # committed by the lost writer
        assert _logged(db, subject) == [read.id]
    assert answers["l:2"][0] == decider.DECIDED and len(_logged(db, "l:2")) == 1
    assert log.current(inline=True).committer.stats.batches >= 2  # the replays and l:2, in the decider


def test_the_writer_process_logs_and_stops_with_the_decider(db, socket_path) -> None:  # type: ignore[no-untyped-def]
    """The real thing: a spawned writer process on the same database, stopped with the decider."""
    processes: list[Any] = []

    async def scenario() -> dict[str, tuple[int, bytes]]:
        server = decider_process.DeciderServer(socket_path, writer=True)
        await server.start()
        try:
            processes.append(server._writer.process)  # type: ignore[union-attr]
            answers = await _exchange(socket_path, [[_event(f"p:{i}") for i in range(3)]])
            assert server.written == 1
            return answers
        finally:
            await server.stop()

    answers = asyncio.run(scenario())
    assert not processes[0].is_alive() and processes[0].exitcode == 0
    for i in range(3):
        assert answers[f"p:{i}"][0] == decider.DECIDED
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(RiskDecision)) == 3


def _decided(subjects: list[str]) -> tuple[list[dict[str, Any]], dict[int, Any]]:
    batch = log.current(inline=True).decide([_event(s) for s in subjects])
    return batch.rows, batch.followed_up()


def test_batches_waiting_together_are_committed_together_or_not_at_all(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Batches already waiting when the writer reads one share its transaction (one COMMIT); if it fails,
    none is written — the first is FAILED, the rest SKIPPED, and so is what follows until RESUME."""
    runs: list[int] = []
    run = db.run
    monkeypatch.setattr(db, "run", lambda work, **kw: runs.append(1) or run(work, **kw))

    def serve(*messages: Any) -> tuple[int, list[tuple[int, int, Any]]]:
        ours, theirs = multiprocessing.Pipe()
        for message in (*messages, None):
            ours.send(message)
        written = log_writer.serve(theirs, db)
        return written, [ours.recv() for _ in messages]

    written, acks = serve((log_writer.BATCH, 1, *_decided(["m:0", "m:1"])),
                          (log_writer.BATCH, 2, *_decided(["m:2"])))
    assert written == 2
    assert [(n, status) for n, status, _ in acks] == [(1, log_writer.WRITTEN), (2, log_writer.WRITTEN)]
    assert len(runs) == 1  # one transaction
    assert [set(positions) for positions, _cases in (acks[0][2], acks[1][2])] == [
        set(_logged(db, "m:0") + _logged(db, "m:1")), set(_logged(db, "m:2"))]

    clash = _decided(["m:3"])[0][0]  # batch 4 logs a subject of batch 3 again: its INSERT refuses
    written, acks = serve((log_writer.BATCH, 3, *_decided(["m:4"])),
                          (log_writer.BATCH, 4, [dict(clash, subject_ref="m:4")], {}))
    assert written == 0
    assert [(n, status) for n, status, _ in acks] == [(3, log_writer.FAILED), (4, log_writer.SKIPPED)]
    assert len(runs) == 2 and _logged(db, "m:4") == []  # batch 3 was rolled back with batch 4


def test_a_writer_that_failed_skips_until_resumed(db) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = multiprocessing.Pipe()
    done = threading.Thread(target=log_writer.serve, args=(theirs, db), daemon=True)
    done.start()
    first = _decided(["s:0"])
    twice = [first[0][0], dict(first[0][0], id="rskd_twin")]  # one subject twice: the INSERT refuses
    ours.send((log_writer.BATCH, 1, twice, {}))
    assert ours.recv()[:2] == (1, log_writer.FAILED)
    ours.send((log_writer.BATCH, 2, *_decided(["s:1"])))
    assert ours.recv()[:2] == (2, log_writer.SKIPPED)
    ours.send((log_writer.RESUME, 0, None, None))
    ours.send((log_writer.BATCH, 3, *_decided(["s:2"])))
    assert ours.recv()[:2] == (3, log_writer.WRITTEN)
    ours.send(None)
    done.join(5)
    assert [len(_logged(db, s)) for s in ("s:0", "s:1", "s:2")] == [0, 0, 1]
