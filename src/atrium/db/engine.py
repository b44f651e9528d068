from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    """Accept the usual `postgresql://` spelling and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def json_text(value: object) -> str:
    """How JSON columns are written: orjson, ~30× faster than `json.dumps` on float-heavy documents (a
    risk decision logs 181 feature values). Non-finite floats become null (PostgreSQL's json has no NaN),
    numpy scalars and arrays are written as numbers, and non-string keys as strings (as `json.dumps`)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, read_only: bool = False,
                pragmas: Mapping[str, int] | None = None) -> Engine:
    """An engine for `url`. SQLite: WAL, one writer (`BEGIN IMMEDIATE`), and `pragmas` set on each new
    connection — read when the connection opens, so a caller may change them and dispose the pool (see
    `Database.checkpoint_in_background`)."""
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=json_text)
        _configure_sqlite(engine, begin="DEFERRED" if read_only else "IMMEDIATE", query_only=read_only,
                          pragmas=pragmas if pragmas is not None else {})
        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
        json_serializer=json_text,
    )


def _configure_sqlite(engine: Engine, *, begin: str, query_only: bool = False,
                      pragmas: Mapping[str, int]) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite's own BEGIN is lazy
        # and deferred, which turns concurrent writers into "database is locked" upgrade failures).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        for name, value in pragmas.items():
            cur.execute(f"PRAGMA {name}={int(value)}")
        if query_only:
            # The read engine's connections refuse every write in SQLite itself, Core statements included.
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(f"BEGIN {begin}")
