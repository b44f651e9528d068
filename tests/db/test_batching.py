"""GroupCommitter: one COMMIT per batch, per-unit failure isolation, callers answered only after COMMIT."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from atrium.db.batching import GroupCommitter
from atrium.db.session import Database
from tests.db.group_commit_support import NotEnough, committed, insert_all, put, rows


def gated(committer: GroupCommitter) -> threading.Event:
    """Occupy the writer with a unit that waits on an event, so the next submissions form one batch."""
    started, release = threading.Event(), threading.Event()

    def hold(session: Session) -> None:
        started.set()
        release.wait(10)

    committer.submit_future(hold)
    assert started.wait(10)
    return release


def test_units_are_batched_and_return_their_values(store: Database) -> None:
    with GroupCommitter(store, max_batch=64) as gc:
        release = gated(gc)
        futures = [gc.submit_future(put(f"r{i}", i)) for i in range(20)]
        release.set()
        assert [f.result(10) for f in futures] == [f"r{i}" for i in range(20)]
        assert gc.stats.batches == 2  # the gate, then all twenty in one transaction
        assert gc.stats.largest_batch == 20
    assert committed(store) == {f"r{i}": i for i in range(20)}


def test_max_batch_caps_a_transaction(store: Database) -> None:
    with GroupCommitter(store, max_batch=8) as gc:
        release = gated(gc)
        futures = [gc.submit_future(put(f"r{i}")) for i in range(20)]
        release.set()
        for f in futures:
            f.result(10)
        assert gc.stats.largest_batch == 8
        assert gc.stats.batches == 1 + 3  # 8 + 8 + 4


def test_a_failing_unit_rolls_back_alone_and_its_caller_gets_the_error(store: Database) -> None:
    def overdraw(session: Session) -> None:
        session.execute(insert(rows).values(name="half-written", value=1))
        raise NotEnough("insufficient funds")

    def duplicate(session: Session) -> None:
        session.execute(insert(rows).values(name="a", value=2))  # primary key taken by the first unit

    with GroupCommitter(store) as gc:
        release = gated(gc)
        fa, fbad, fdup, fb = (gc.submit_future(f) for f in (put("a"), overdraw, duplicate, put("b")))
        release.set()
        assert fa.result(10) == "a" and fb.result(10) == "b"
        with pytest.raises(NotEnough):
            fbad.result(10)
        with pytest.raises(IntegrityError):
            fdup.result(10)
        assert gc.stats.batches == 2 and gc.stats.failed_units == 2
    assert committed(store) == {"a": 1, "b": 1}


def test_nothing_is_committed_or_answered_before_the_batch_commits(store: Database) -> None:
    seen: dict[str, object] = {}

    with GroupCommitter(store) as gc:
        release = gated(gc)
        first = gc.submit_future(put("first"))

        def later(session: Session) -> None:
            # Runs after `first` in the same transaction: its row exists here, but not outside, and its
            # caller has not been answered yet.
            seen["inside"] = session.scalar(select(rows.c.value).where(rows.c.name == "first"))
            seen["outside"] = committed(store).get("first")
            seen["answered"] = first.done()

        second = gc.submit_future(later)
        # When a caller is answered, its work is already visible to every other connection.
        first.add_done_callback(lambda f: seen.setdefault("at_answer", committed(store).get("first")))
        release.set()
        second.result(10)
        first.result(10)
    assert seen == {"inside": 1, "outside": None, "answered": False, "at_answer": 1}


def test_a_transient_error_retries_the_whole_batch(store: Database) -> None:
    runs = {"flaky": 0, "steady": 0}

    def steady(session: Session) -> str:
        runs["steady"] += 1
        session.execute(insert(rows).values(name="steady", value=runs["steady"]))
        return "steady"

    def flaky(session: Session) -> str:
        runs["flaky"] += 1
        if runs["flaky"] == 1:
            raise OperationalError("UPDATE …", {}, Exception("database is locked"))
        return "flaky"

    with GroupCommitter(store) as gc:
        release = gated(gc)
        fs, ff = gc.submit_future(steady), gc.submit_future(flaky)
        release.set()
        assert (fs.result(10), ff.result(10)) == ("steady", "flaky")
        assert gc.stats.retried_batches == 1
    assert runs == {"steady": 2, "flaky": 2}
    assert committed(store) == {"steady": 2}  # the first attempt's insert was rolled back


def test_a_failed_commit_splits_the_batch_so_the_bad_unit_fails_alone(store: Database) -> None:
    def poison(session: Session) -> None:
        session.execute(insert(rows).values(name="poison", value=0))
        session.info["poison"] = True  # stands for a deferred constraint that only fails at COMMIT

    def refuse(session: Session) -> None:
        if not session.in_nested_transaction() and session.info.pop("poison", False):
            raise IntegrityError("COMMIT", {}, Exception("deferred constraint violated"))

    event.listen(Session, "before_commit", refuse)
    try:
        with GroupCommitter(store) as gc:
            release = gated(gc)
            fa, fp, fb = gc.submit_future(put("a")), gc.submit_future(poison), gc.submit_future(put("b"))
            release.set()
            assert (fa.result(10), fb.result(10)) == ("a", "b")
            with pytest.raises(IntegrityError):
                fp.result(10)
            assert gc.stats.split_batches == 1
    finally:
        event.remove(Session, "before_commit", refuse)
    assert committed(store) == {"a": 1, "b": 1}


def test_apply_batch_posts_a_whole_batch_in_one_pass(store: Database) -> None:
    with GroupCommitter(store, apply_batch=insert_all) as gc:
        release = gated(gc)
        futures = [gc.submit_future(put(f"s{i}", i), request=(f"s{i}", i)) for i in range(10)]
        release.set()
        assert [f.result(10) for f in futures] == [f"s{i}" for i in range(10)]
        assert gc.stats.applied_whole == 1 and gc.stats.applied_fallback == 0
    assert committed(store) == {f"s{i}": i for i in range(10)}


def test_a_refused_set_wise_batch_runs_unit_by_unit_so_only_the_bad_unit_fails(store: Database) -> None:
    def bad(session: Session) -> str:
        raise NotEnough("negative")

    with GroupCommitter(store, apply_batch=insert_all) as gc:
        release = gated(gc)
        good1 = gc.submit_future(put("g1", 1), request=("g1", 1))
        refused = gc.submit_future(bad, request=("bad", -5))
        good2 = gc.submit_future(put("g2", 2), request=("g2", 2))
        release.set()
        assert (good1.result(10), good2.result(10)) == ("g1", "g2")
        with pytest.raises(NotEnough):
            refused.result(10)
        assert gc.stats.applied_fallback == 1 and gc.stats.applied_whole == 0
    assert committed(store) == {"g1": 1, "g2": 2}  # nothing of the refused set-wise pass survived


def test_prepare_batch_runs_before_the_transaction_and_feeds_apply_batch(store: Database) -> None:
    seen: list[list[tuple[str, int]]] = []

    def doubled(requests: list[tuple[str, int]]) -> list[tuple[str, int]]:
        # Another writer writes meanwhile: the batch's transaction (SQLite's write lock) has not begun.
        store.run(put("meanwhile", -1))
        seen.append(requests)
        return [(name, value * 2) for name, value in requests]

    with GroupCommitter(store, apply_batch=insert_all, prepare_batch=doubled) as gc:
        release = gated(gc)
        futures = [gc.submit_future(put(f"d{i}", i), request=(f"d{i}", i)) for i in range(4)]
        release.set()
        assert [f.result(10) for f in futures] == [f"d{i}" for i in range(4)]
    assert seen == [[(f"d{i}", i) for i in range(4)]]
    # apply_batch got what prepare made
    assert committed(store) == {"meanwhile": -1} | {f"d{i}": 2 * i for i in range(4)}


def test_a_failing_prepare_batch_runs_the_batch_unit_by_unit(store: Database) -> None:
    def broken(requests: list[tuple[str, int]]) -> list[tuple[str, int]]:
        raise NotEnough("cannot prepare")

    with GroupCommitter(store, apply_batch=insert_all, prepare_batch=broken) as gc:
        release = gated(gc)
        futures = [gc.submit_future(put(f"u{i}", i), request=(f"u{i}", i)) for i in range(3)]
        release.set()
        assert [f.result(10) for f in futures] == [f"u{i}" for i in range(3)]
        assert gc.stats.applied_fallback == 1 and gc.stats.applied_whole == 0
    assert committed(store) == {f"u{i}": i for i in range(3)}


def test_submit_async_awaits_the_committed_result(store: Database) -> None:
    async def main() -> list[str]:
        with GroupCommitter(store) as gc:
            return await asyncio.gather(*(gc.submit_async(put(f"x{i}")) for i in range(10)))

    assert asyncio.run(main()) == [f"x{i}" for i in range(10)]
    assert len(committed(store)) == 10


def test_a_batch_wakes_its_loop_once_and_a_cancelled_caller_is_skipped(store: Database) -> None:
    """The writer hands an event loop all of a batch's outcomes in one call (not one wake-up per unit);
    failures reach their own caller, and a caller that gave up before the unit ran is simply left out."""

    async def main() -> tuple[list[object], int]:
        loop = asyncio.get_running_loop()
        wakes = 0
        original = loop.call_soon_threadsafe

        def counting(callback, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal wakes
            wakes += 1
            return original(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        with GroupCommitter(store, max_batch=64) as gc:
            release = gated(gc)  # the writer holds the gate's unit: the others queue as one batch
            tasks = [asyncio.ensure_future(gc.submit_async(put(f"w{i}"))) for i in range(8)]
            bad = asyncio.ensure_future(gc.submit_async(boom))
            doomed = asyncio.ensure_future(gc.submit_async(put("doomed")))
            await asyncio.sleep(0.01)
            doomed.cancel()
            await asyncio.sleep(0.01)  # its done-callback cancels the queued unit
            wakes = 0
            release.set()
            results = await asyncio.gather(*tasks, bad, return_exceptions=True)
        return results, wakes

    results, wakes = asyncio.run(main())
    assert results[:8] == [f"w{i}" for i in range(8)]
    assert isinstance(results[8], ValueError)
    assert wakes == 1
    assert "doomed" not in committed(store) and len(committed(store)) == 8


def boom(session):  # type: ignore[no-untyped-def]
    raise ValueError("no")


def test_close_commits_what_was_submitted_then_refuses_more(store: Database) -> None:
    gc = GroupCommitter(store)
    release = gated(gc)
    pending = [gc.submit_future(put(f"p{i}")) for i in range(5)]
    threading.Timer(0.05, release.set).start()
    gc.close()
    assert all(f.done() and f.exception() is None for f in pending)
    with pytest.raises(RuntimeError):
        gc.submit(put("late"))
    assert len(committed(store)) == 5


def test_a_unit_cancelled_before_it_starts_never_runs(store: Database) -> None:
    with GroupCommitter(store) as gc:
        release = gated(gc)
        doomed = gc.submit_future(put("doomed"))
        assert doomed.cancel()
        kept = gc.submit_future(put("kept"))
        release.set()
        assert kept.result(10) == "kept"
    assert committed(store) == {"kept": 1}


def test_sqlite_allows_exactly_one_writer(store: Database) -> None:
    if not store.is_sqlite:
        pytest.skip("PostgreSQL allows several writers")
    with pytest.raises(ValueError, match="one writer"):
        GroupCommitter(store, writers=2)


def test_concurrent_callers_on_hot_keys_keep_every_count(store: Database) -> None:
    """Many threads, a few hot rows, units that lock rows in *arbitrary* order: with conflict keys the
    writers' batches stay disjoint, so on PostgreSQL several writers neither deadlock nor lose updates."""
    names = [f"acct{i}" for i in range(6)]
    with store.engine.begin() as conn:
        conn.execute(insert(rows), [{"name": n, "value": 0} for n in names])
    writers = 1 if store.is_sqlite else 3

    def move(a: str, b: str):  # type: ignore[no-untyped-def]
        def fn(session: Session) -> None:
            for n in (a, b):  # deliberately not sorted
                session.execute(update(rows).where(rows.c.name == n).values(value=rows.c.value + 1))

        return fn

    errors: list[BaseException] = []
    with GroupCommitter(store, writers=writers, max_batch=16) as gc:

        def client(k: int) -> None:
            try:
                for i in range(25):
                    a, b = names[(k + i) % 6], names[(k * 7 + i * 3 + 1) % 6]
                    if a != b:
                        gc.submit(move(a, b), keys=(a, b), timeout=30)
                    else:
                        gc.submit(move(a, names[(k + 1) % 6]), keys=(a, names[(k + 1) % 6]), timeout=30)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert gc.stats.units == 200
        assert gc.stats.retried_batches == 0  # disjoint batches: no deadlock, nothing to retry
    assert errors == []
    assert sum(committed(store).values()) == 2 * 200
