"""WAL checkpoints on a thread of their own (atrium.db.checkpoint): COMMITs stop checkpointing, the log
stays bounded while readers never stop, and nothing committed is lost."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from atrium.db.checkpoint import WalCheckpointer
from atrium.db.session import Database

ROW = "x" * 2000  # about half a page: a megabyte of log is ~500 rows


def _fill(db: Database, rows: int, start: int = 0) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(text("INSERT INTO t (id, body) VALUES (:id, :body)"),
                     [{"id": start + i, "body": ROW} for i in range(rows)])


def _log_pages(path: Path) -> int:
    """Pages in the -wal file now (a PASSIVE checkpoint reports them and copies what it can)."""
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "wal.db"


def _background(path: Path, interval_ms: float = 60_000, restart_mb: int = 256) -> Database:
    db = Database(f"sqlite:///{path}")
    assert db.checkpoint_in_background(interval_ms, restart_mb)
    return db


def test_a_serving_process_checkpoints_in_commit_only_past_twice_the_restart_size(path: Path) -> None:
    default = Database(f"sqlite:///{path}")  # a batch job: SQLite's own checkpoints
    with default.engine.connect() as conn:  # a pooled connection opened before the thread starts...
        conn.exec_driver_sql("SELECT 1")
    background = _background(path)
    try:
        assert background.checkpoint_in_background(60_000, 256)  # once: a second call changes nothing
        for db in (background, default):
            for engine in (db.engine, db.read_engine):
                with engine.connect() as conn:
                    pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
                assert pages == (2 * 65_536 if db is background else 1000)
        assert background.checkpointer is not None and default.checkpointer is None
    finally:
        background.dispose()
        default.dispose()
    assert background.checkpointer is None  # dispose stopped the thread


def test_no_checkpointer_for_a_database_in_memory_or_an_interval_of_zero(path: Path) -> None:
    for db, interval in ((Database("sqlite://"), 500), (Database(f"sqlite:///{path}"), 0)):
        try:
            assert not db.checkpoint_in_background(interval, 256) and db.checkpointer is None
        finally:
            db.dispose()


def test_the_log_is_reset_once_long_even_with_a_reader_always_present(path: Path) -> None:
    """The case that made COMMITs slow: a reader always open, so SQLite's own checkpoints never reset the
    log. The restart waits for the readers of the moment, then the next COMMIT writes the log from its
    start."""
    db = _background(path)  # ticks by hand below
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            with db.read_engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
                time.sleep(0.002)  # a read transaction held open a little while

    try:
        _fill(db, 10)
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        checkpointer = WalCheckpointer(str(path), restart_frames=256, busy_ms=200)  # 1 MB
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("PRAGMA busy_timeout=200")
            for round_ in range(5):
                _fill(db, 1000, start=10 + round_ * 1000)  # ~2 MB of log each round
                for _tick in range(20):  # readers slower than busy_ms (a loaded machine): the next tick
                    checkpointer.run_once(conn)
                    if checkpointer.stats.restarts == round_ + 1:
                        break
                assert checkpointer.stats.restarts == round_ + 1
                _fill(db, 1, start=100_000 + round_)
                assert _log_pages(path) < 50  # written from the start again, not appended
        assert checkpointer.stats.largest_log_pages > 256
    finally:
        stop.set()
        db.dispose()
    with sqlite3.connect(path) as conn:  # every committed row is there after the restarts and a reopen
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 10 + 5000 + 5


def test_a_short_log_is_only_copied(path: Path) -> None:
    db = _background(path)
    try:
        _fill(db, 20)
        checkpointer = WalCheckpointer(str(path), restart_frames=10_000)
        with sqlite3.connect(path, isolation_level=None) as conn:
            checkpointer.run_once(conn)
        assert (checkpointer.stats.runs, checkpointer.stats.restarts) == (1, 0)
    finally:
        db.dispose()


def test_a_quiet_log_is_cut_to_nothing_and_a_busy_one_is_not(path: Path) -> None:
    """A RESTART reuses the -wal file, so a server that went quiet after a busy spell kept a log of up to the
    restart size on disk. Once a tick finds the whole log copied and nothing added since the last tick (and
    for `quiet_s`, here 0), it truncates the file; while writes go on, it does not."""
    db = _background(path)
    try:
        _fill(db, 2_000)  # ~4 MB of log
        checkpointer = WalCheckpointer(str(path), restart_frames=1_000_000, quiet_s=0.0)
        wal = Path(f"{path}-wal")
        with sqlite3.connect(path, isolation_level=None) as conn:
            checkpointer.run_once(conn)  # copies it all
            _fill(db, 10, start=2_000)  # … and more arrives: not quiet
            checkpointer.run_once(conn)
            assert checkpointer.stats.truncates == 0 and wal.stat().st_size > 1_000_000
            checkpointer.run_once(conn)  # nothing new since the last tick: quiet
            assert checkpointer.stats.truncates == 1 and wal.stat().st_size == 0
            checkpointer.run_once(conn)  # an empty log stays as it is
            assert (checkpointer.stats.truncates, checkpointer.stats.restarts) == (1, 0)
        _fill(db, 5, start=2_010)  # the next writer starts a fresh log
    finally:
        db.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2_015


def test_the_thread_checkpoints_on_its_own_and_survives_a_missing_file(tmp_path: Path, path: Path) -> None:
    db = _background(path, interval_ms=20, restart_mb=1)
    try:
        _fill(db, 1500)
        assert db.checkpointer is not None
        deadline = time.monotonic() + 10
        while db.checkpointer.stats.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert db.checkpointer.stats.restarts >= 1
    finally:
        db.dispose()

    lost = WalCheckpointer(str(tmp_path / "no" / "such" / "dir.db"), interval_s=0.01)
    lost.start()
    deadline = time.monotonic() + 10
    while lost.stats.errors == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    lost.stop()
    assert lost.stats.errors >= 1 and lost.stats.runs == 0


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        WalCheckpointer("x.db", interval_s=0)


def test_the_app_starts_it_when_it_serves_and_a_batch_job_does_not(path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from atrium.app import create_app
    from atrium.db import runtime

    served, previous = Database(f"sqlite:///{path}"), runtime.get_db()
    runtime.set_db(served)
    try:
        assert served.checkpointer is None  # what `atrium demo seed` or `atrium migrate` runs with
        with TestClient(create_app(start_background=False)):
            assert served.checkpointer is not None
            with served.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 2 * 65_536
            capsys.readouterr()
        assert "wal_checkpoints" in capsys.readouterr().out  # the totals, when the server shuts down
    finally:
        runtime.set_db(previous)
        served.dispose()
