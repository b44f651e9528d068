"""Scratch PostgreSQL databases for the system tests, and the schema a serving process expects.

The system tests do not share the per-worker test database of tests/conftest.py: they commit thousands of
rows, run a server in another process and kill it, so each test module creates a database of its own next
to the one ATRIUM_TEST_DATABASE_URL names, and drops it afterwards (`DROP … WITH (FORCE)` also ends the
connections a killed server left behind).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from atrium.db.engine import normalise_url
from atrium.db.session import Database

BASE_URL = os.environ.get("ATRIUM_TEST_DATABASE_URL", "")
NATS_URL = os.environ.get("ATRIUM_TEST_NATS_URL") or None

requires_postgres = pytest.mark.skipif(
    not BASE_URL.startswith("postgres"),
    reason="system test: runs on PostgreSQL only (set ATRIUM_TEST_DATABASE_URL=postgresql://…, as .ci/run "
    "does); it proves row-lock concurrency and crash recovery of the production database",
)


@contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """Create `<test database>_<suffix>` afresh, yield its URL, drop it afterwards."""
    base = make_url(normalise_url(BASE_URL))
    name = f"{base.database}_{suffix}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # A previous run that was itself killed may have left it behind.
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def build_schema(db: Database) -> None:
    """Every table a serving process touches, plus the ledger's PostgreSQL triggers.

    With Alembic migrations in the tree this is `atrium migrate` (what production runs); before they exist,
    the models' metadata as in tests/conftest.py, after importing the app and the job registry so that the
    tables of every mounted domain are in it, not only those `atrium.schema` lists already.
    """
    from atrium.db import migrate

    if any((migrate.ROOT / "migrations" / "versions").glob("*.py")):
        migrate.upgrade(db.engine)
        return
    import atrium.app  # noqa: F401
    import atrium.tasks  # noqa: F401
    from atrium.schema import install_extras, metadata

    with db.engine.begin() as conn:
        metadata.create_all(conn)
        install_extras(conn)
