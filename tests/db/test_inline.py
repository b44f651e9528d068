"""InlineCommitter: a group commit run by its caller's thread, with the writer's rules — one transaction per
batch, a failing unit rolled back alone, `prepare_batch` before the transaction, answers after COMMIT."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from atrium.db.inline import InlineCommitter
from atrium.db.session import Database
from tests.db.group_commit_support import NotEnough, committed, insert_all, put


def test_a_batch_runs_in_the_callers_thread_and_commits_once(store: Database) -> None:
    threads: set[str] = set()

    def where(name: str, value: int):  # type: ignore[no-untyped-def]
        def fn(session: Session) -> str:
            threads.add(threading.current_thread().name)
            return put(name, value)(session)

        return fn

    gc = InlineCommitter(store)
    outcomes = gc.run_now([(where(f"i{i}", i), None) for i in range(5)])
    assert outcomes == [(True, f"i{i}") for i in range(5)]
    assert threads == {threading.current_thread().name}
    assert (gc.stats.batches, gc.stats.units) == (1, 5)
    assert committed(store) == {f"i{i}": i for i in range(5)}
    gc.close()


def test_a_failing_unit_rolls_back_alone(store: Database) -> None:
    def bad(session: Session) -> str:
        put("ghost", 0)(session)
        raise NotEnough("no")

    gc = InlineCommitter(store)
    (ok1, v1), (ok2, v2), (ok3, v3) = gc.run_now([(put("a", 1), None), (bad, None), (put("b", 2), None)])
    assert (ok1, v1, ok3, v3) == (True, "a", True, "b")
    assert not ok2 and isinstance(v2, NotEnough)
    assert committed(store) == {"a": 1, "b": 2}


def test_prepare_and_apply_batch_take_the_whole_batch(store: Database) -> None:
    prepared: list[list[tuple[str, int]]] = []

    def tripled(requests: list[tuple[str, int]]) -> list[tuple[str, int]]:
        prepared.append(requests)
        return [(name, value * 3) for name, value in requests]

    gc = InlineCommitter(store, apply_batch=insert_all, prepare_batch=tripled)
    outcomes = gc.run_now([(put(f"p{i}", i), (f"p{i}", i)) for i in range(3)])
    assert [ok for ok, _ in outcomes] == [True] * 3
    assert prepared == [[(f"p{i}", i) for i in range(3)]] and gc.stats.applied_whole == 1
    assert committed(store) == {f"p{i}": 3 * i for i in range(3)}


def test_it_has_no_writer_thread_and_refuses_queued_work(store: Database) -> None:
    gc = InlineCommitter(store)
    assert gc._threads == []
    with pytest.raises(RuntimeError, match="run_now"):
        gc.submit(put("queued"))
    gc.close()
    with pytest.raises(RuntimeError, match="closed"):
        gc.run_now([(put("late"), None)])
    assert committed(store) == {}
