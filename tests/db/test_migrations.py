"""The Alembic migrations build exactly the schema the models declare, on a fresh database of each kind.

The test suite itself builds its schema from the models (tests/conftest.py); this is the test that keeps
the two in step: `upgrade head` on an empty database, then autogenerate's comparison against
atrium.schema.metadata must find nothing to do; the database extras (triggers) must match what
`install_extras` installs; and `downgrade base` followed by `upgrade head` must work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from atrium.db import migrate
from atrium.db.engine import make_engine, normalise_url
from atrium.db.session import Database
from atrium.schema import metadata

VERSIONS = migrate.ROOT / "migrations" / "versions"


def _require_revisions() -> None:
    revisions = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert revisions, (
        f"{VERSIONS} holds no migration. Generate one from the models before committing: "
        "`.venv/bin/alembic revision --autogenerate -m 'initial schema'` (then add the install_extras "
        "call for triggers) — this test fails until the migrations exist."
    )


@pytest.fixture()
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the kind under test: a new SQLite file, or a new PostgreSQL database."""
    url = os.environ.get("ATRIUM_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    base = make_url(normalise_url(url))
    name = f"{base.database}_migrations_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _triggers(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
            ))
        return {(r[0], r[1]) for r in rows}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_exist() -> None:
    _require_revisions()


def test_upgrade_head_builds_the_models_schema(fresh_engine: Engine, database: Database) -> None:
    _require_revisions()
    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == set(metadata.tables)
    differences = _differences(fresh_engine)
    assert differences == [], "migrations and models disagree:\n" + pformat(differences)
    # `database` is the schema built from the models plus install_extras (tests/conftest.py).
    assert _triggers(fresh_engine) == _triggers(database.engine)


def test_downgrade_base_then_upgrade_head(fresh_engine: Engine) -> None:
    _require_revisions()
    migrate.upgrade(fresh_engine)
    migrate.downgrade(fresh_engine, "base")
    assert _tables(fresh_engine) == set()
    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == set(metadata.tables)
    assert _differences(fresh_engine) == []
