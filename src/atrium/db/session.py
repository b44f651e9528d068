from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from atrium.db.checkpoint import WalCheckpointer
from atrium.db.engine import make_engine, normalise_url

T = TypeVar("T")
_PAGE_BYTES = 4096  # SQLite's default page size, which Atrium keeps


class ReadSession(Session):
    """A session that cannot write: a GET endpoint gets this type, so a stray write fails loudly.

    The ORM check below catches pending objects; the database enforces the rest (a Core `update()` or
    `text()` statement): a READ ONLY transaction on PostgreSQL (`Database.read_engine`), a `query_only`
    connection on SQLite.
    """

    def flush(self, objects=None) -> None:  # type: ignore[no-untyped-def]
        if self.new or self.dirty or self.deleted:
            raise RuntimeError("a read-only session cannot write")
        super().flush(objects)


class Database:
    """The process's engines and session factories. One per process (see `atrium.db.runtime`)."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(normalise_url(url))
        path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        self._file = path if path not in (None, "", ":memory:") else None  # a SQLite database on disk
        self._pragmas: dict[str, int] = {}  # extra pragmas for new SQLite connections (both engines)
        self.engine: Engine = make_engine(url, echo=echo, pool_size=pool_size, pragmas=self._pragmas)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # PostgreSQL: the same pool, its transactions begun READ ONLY by the driver (`BEGIN READ ONLY`, one
        # command) rather than by a `SET TRANSACTION READ ONLY` after BEGIN: one round trip less per read.
        self.read_engine: Engine = (
            make_engine(url, echo=echo, read_only=True, pragmas=self._pragmas) if self.is_sqlite
            else self.engine.execution_options(postgresql_readonly=True)
        )
        self.checkpointer: WalCheckpointer | None = None
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, class_=ReadSession, expire_on_commit=False)

    def session(self) -> Session:
        return self._write()

    def read_session(self) -> ReadSession:
        return self._read()  # type: ignore[return-value]

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A write transaction: commit on success, roll back on any exception."""
        with self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def run(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run `work` in a unit of work, retrying transient conflicts (deadlock, serialization, busy).

        Retrying is only safe because every money write is idempotent; `work` must be a whole use case.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.unit_of_work() as session:
                    return work(session)
            except (OperationalError, DBAPIError) as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                time.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")

    def checkpoint_in_background(self, interval_ms: float, restart_mb: int, *, thread: bool = True) -> bool:
        """A serving process's SQLite WAL checkpoints on a thread of their own (`atrium.db.checkpoint`),
        started once; returns whether it runs (not for PostgreSQL, an in-memory database or
        `interval_ms` 0). The process's connections then checkpoint inside a COMMIT only past twice the
        restart size — a cap for a writer so busy that the thread's restart never gets the lock. Batch
        jobs (`atrium demo seed`, `migrate`) do not call this: one writer and no readers suit SQLite's
        own checkpoints, and there a busy writer did starve the thread (a 758 MB log after seeding).
        `thread=False`: the pragma only, for a process writing beside one that runs the thread (the risk
        decider's log writer)."""
        if self._file is None or interval_ms <= 0:
            return False
        if self.checkpointer is None:
            restart_pages = restart_mb * 1024 * 1024 // _PAGE_BYTES
            self._pragmas["wal_autocheckpoint"] = 2 * restart_pages
            self.engine.dispose()  # pooled connections reopen with the pragma
            self.read_engine.dispose()
            if not thread:
                return False
            self.checkpointer = WalCheckpointer(self._file, interval_s=interval_ms / 1000,
                                                restart_frames=restart_pages)
            self.checkpointer.start()
        return True

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()
        if self.is_sqlite:  # on PostgreSQL the read engine shares the engine's pool
            self.read_engine.dispose()


def is_transient(exc: BaseException) -> bool:
    """Deadlocks and serialization failures on PostgreSQL; 'database is locked' on SQLite."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01", "55P03"}:
        return True
    return "database is locked" in str(exc)
