"""Sessions: a read session cannot write (ORM or Core), a unit of work commits or rolls back as a whole,
and Database.run retries transient conflicts — real ones, raised by the database itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from atrium.db.idempotency import IdempotencyRecord
from atrium.db.session import Database, is_transient
from atrium.kit import clock

# IdempotencyRecord is the probe table: it belongs to the db layer, so it exists in every schema.
T = IdempotencyRecord


def _row(key: str) -> IdempotencyRecord:
    return T(scope="probe", key=key, request_hash="0" * 64, status_code=200, response={"k": key},
             created_at=clock.now())


def _keys(db: Database) -> set[str]:
    with db.read_session() as s:
        return set(s.scalars(select(T.key).where(T.scope == "probe")))


def test_read_session_reads(db: Database) -> None:
    with db.unit_of_work() as s:
        s.add(_row("k1"))
    with db.read_session() as s:
        assert s.get(T, ("probe", "k1")) is not None


def test_read_session_refuses_orm_writes(db: Database) -> None:
    with db.read_session() as s, pytest.raises(RuntimeError, match="read-only"):
        s.add(_row("k1"))
        s.flush()
    assert _keys(db) == set()


def test_read_session_refuses_orm_updates_and_deletes(db: Database) -> None:
    with db.unit_of_work() as s:
        s.add(_row("k1"))
    with db.read_session() as s:
        rec = s.get(T, ("probe", "k1"))
        assert rec is not None
        rec.status_code = 500
        with pytest.raises(RuntimeError, match="read-only"):
            s.flush()
    with db.read_session() as s:
        rec = s.get(T, ("probe", "k1"))
        assert rec is not None
        s.delete(rec)
        with pytest.raises(RuntimeError, match="read-only"):
            s.commit()
    assert _keys(db) == {"k1"}


@pytest.mark.parametrize(
    "statement",
    [
        insert(T).values(scope="probe", key="core", request_hash="0", status_code=200, response={},
                         created_at=clock.now()),
        update(T).values(status_code=500),
        delete(T),
        text("DELETE FROM idempotency_keys"),
    ],
    ids=["insert", "update", "delete", "text"],
)
def test_read_session_refuses_core_writes(db: Database, statement) -> None:  # type: ignore[no-untyped-def]
    """Core statements bypass the ORM's flush check; the database itself must refuse them."""
    with db.unit_of_work() as s:
        s.add(_row("k1"))
    with db.read_session() as s:
        with pytest.raises(DBAPIError):
            s.execute(statement)
            s.commit()  # even a commit must not make the write stick
        s.rollback()
    with db.read_session() as s:
        assert [r.status_code for r in s.scalars(select(T))] == [200]


def test_read_only_does_not_leak_into_write_sessions(db: Database) -> None:
    """On PostgreSQL both session kinds share one pool: READ ONLY must end with the read transaction."""
    for i in range(5):
        with db.read_session() as s:
            s.scalars(select(T)).all()
        with db.unit_of_work() as s:
            s.add(_row(f"k{i}"))
    assert _keys(db) == {f"k{i}" for i in range(5)}


def test_unit_of_work_commits_on_success(db: Database) -> None:
    with db.unit_of_work() as s:
        s.add(_row("a"))
        s.add(_row("b"))
    assert _keys(db) == {"a", "b"}


def test_unit_of_work_rolls_back_everything_on_error(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.unit_of_work() as s:
        s.add(_row("a"))
        s.flush()  # written to the transaction, not yet committed
        raise Boom
    assert _keys(db) == set()


def test_unit_of_work_rolls_back_on_a_failed_flush(db: Database) -> None:
    with db.unit_of_work() as s:
        s.add(_row("a"))
    with pytest.raises(IntegrityError), db.unit_of_work() as s:
        s.add(_row("b"))
        s.flush()
        s.add(_row("a"))  # duplicate primary key
    assert _keys(db) == {"a"}


def test_services_flush_but_do_not_commit(db: Database) -> None:
    """A session that is closed without commit writes nothing: the edge owns the commit."""
    with db.session() as s:
        s.add(_row("a"))
        s.flush()
    assert _keys(db) == set()


def test_run_returns_the_value_and_commits(db: Database) -> None:
    def work(s) -> str:  # type: ignore[no-untyped-def]
        s.add(_row("r"))
        return "done"

    assert db.run(work) == "done"
    assert _keys(db) == {"r"}


@pytest.fixture()
def fast_fail_db(db: Database) -> Iterator[Database]:
    """A second Database on the same store whose lock waits give up at once (SQLite) — so a lock held by
    someone else is a real 'database is locked' error rather than a 30-second wait."""
    other = Database(db.url)
    if other.is_sqlite:
        @event.listens_for(other.engine, "connect")
        def _impatient(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute("PRAGMA busy_timeout=0")

    yield other
    other.dispose()


def _sqlite_path(db: Database) -> str:
    return db.engine.url.database or ""


def test_run_retries_a_real_lock_conflict(db: Database, fast_fail_db: Database) -> None:
    """First attempt: another connection holds the lock, the database refuses; Database.run retries and
    the second attempt goes through. Only the successful attempt's writes are committed."""
    with db.unit_of_work() as s:
        s.add(_row("hot"))

    attempts: list[int] = []
    if fast_fail_db.is_sqlite:
        holder = sqlite3.connect(_sqlite_path(db), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # takes SQLite's single write lock

        def contend(s) -> None:  # type: ignore[no-untyped-def]
            s.execute(select(T.key)).all()  # BEGIN IMMEDIATE of this unit of work fails here

        release, close = holder.rollback, holder.close
    else:
        holder_conn = db.engine.connect()
        holder_conn.execute(select(T).where(T.key == "hot").with_for_update())

        def contend(s) -> None:  # type: ignore[no-untyped-def]
            s.execute(select(T).where(T.key == "hot").with_for_update(nowait=True)).all()  # 55P03

        release, close = holder_conn.rollback, holder_conn.close

    def work(s) -> int:  # type: ignore[no-untyped-def]
        attempts.append(1)
        s.add(_row(f"attempt-{len(attempts)}"))
        try:
            contend(s)
        except OperationalError as exc:
            assert is_transient(exc), exc
            release()
            raise
        return len(attempts)

    try:
        assert fast_fail_db.run(work) == 2
    finally:
        release()
        close()
    assert _keys(db) == {"hot", "attempt-2"}


def _transient() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


def test_run_gives_up_after_the_last_attempt(db: Database) -> None:
    calls: list[int] = []

    def work(s) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        s.add(_row(f"try-{len(calls)}"))
        s.flush()
        raise _transient()

    with pytest.raises(OperationalError):
        db.run(work, attempts=3)
    assert len(calls) == 3
    assert _keys(db) == set()  # every failed attempt rolled back


def test_run_does_not_retry_other_errors(db: Database) -> None:
    calls: list[int] = []

    def work(s) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        s.add(_row("dup"))
        s.flush()
        s.add(_row("dup"))
        s.flush()

    with pytest.raises(IntegrityError):
        db.run(work)
    assert len(calls) == 1

    def domain_error(s) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        raise ValueError("a business rule")

    with pytest.raises(ValueError):
        db.run(domain_error)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("sqlstate", "message", "transient"),
    [
        ("40001", "could not serialize access", True),
        ("40P01", "deadlock detected", True),
        ("55P03", "could not obtain lock", True),
        (None, "database is locked", True),
        ("23505", "duplicate key value", False),
        ("42P01", "relation does not exist", False),
        (None, "no such table: x", False),
    ],
)
def test_is_transient(sqlstate: str | None, message: str, transient: bool) -> None:
    class DriverError(Exception):
        pass

    orig = DriverError(message)
    orig.sqlstate = sqlstate  # type: ignore[attr-defined]
    assert is_transient(OperationalError("stmt", {}, orig)) is transient
