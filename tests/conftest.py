"""Test fixtures shared by every domain.

The suite runs on SQLite by default and on PostgreSQL when ATRIUM_TEST_DATABASE_URL is set
(`make test` runs both). The schema is built once per session from the models (plus database extras
such as the ledger's PostgreSQL constraint trigger); tests/db/test_migrations.py proves that the Alembic
migrations build the very same schema. Each test gets clean tables (deleted after it), so API tests that
commit at the edge stay isolated.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

# Cache bytecode (in the git-ignored __pycache__ folders) even where PYTHONDONTWRITEBYTECODE says not to:
# without it every xdist worker compiles and assertion-rewrites ~350 test modules and compiles atrium again
# (collection 21 s -> 10 s of CPU a worker, measured), and every server a test starts compiles atrium again.
# Python reads a cached file only while its source is unchanged.
sys.dont_write_bytecode = False

os.environ.setdefault("ATRIUM_ENV", "test")
# Each app a test starts would collect and freeze the suite's whole heap (seconds, and nothing frozen is ever
# collected again) and space out the suite's young collections; tests/kit/test_collector.py does both on
# purpose.
os.environ.setdefault("ATRIUM_GC_FREEZE", "false")
os.environ.setdefault("ATRIUM_GC_YOUNG_THRESHOLD", "0")
# The anti-fraud decision's time budgets are milliseconds; two xdist workers, a browser and a database on two
# cores can stall a thread longer than that, and a timed-out decision follows the channel's fail policy
# (challenge or hold) — an outcome the test did not ask for. Tests that exercise the budget set their own.
os.environ.setdefault("ATRIUM_RISK__POLICIES", json.dumps({
    channel: {"timeout_ms": 10_000}
    for channel in ("transfer", "qr", "card", "login", "device", "payee", "api")
}))

from atrium.config import get_settings, reset_settings_cache  # noqa: E402
from atrium.db import runtime as db_runtime  # noqa: E402
from atrium.db.session import Database  # noqa: E402
from atrium.identity import passwords  # noqa: E402
from atrium.risk.repository import vectors  # noqa: E402
from atrium.schema import install_extras, metadata  # noqa: E402

passwords.use_fast_hasher()

# No per-example deadline: CI shares two cores with a browser and a second worker, and a first example that
# waits for the CPU is not a bug (a test that is about speed belongs in bench/, not here).
hypothesis_settings.register_profile("atrium", deadline=None)
hypothesis_settings.load_profile("atrium")


_reads_the_environment: dict[str, bool] = {}


def _database_independent(item: pytest.Item) -> bool:
    """Marked so, a browser test, or never touching the database under test: no `database` fixture (every
    database fixture depends on it), no postgres/nats marker, and a module that does not read ATRIUM_TEST_*
    itself."""
    if item.get_closest_marker("database_independent"):
        return True
    # Chromium drives the same pages whose HTTP tests run on PostgreSQL too; what the browser adds (layout,
    # scripts, focus, axe) does not depend on the database behind the page.
    if item.get_closest_marker("browser") or "browser" in getattr(item, "fixturenames", ()):
        return True
    if "database" in getattr(item, "fixturenames", ()) or item.get_closest_marker("postgres"):
        return False
    if item.get_closest_marker("nats"):
        return False
    path = str(item.path)
    if path not in _reads_the_environment:
        _reads_the_environment[path] = "ATRIUM_TEST_" in item.path.read_text(encoding="utf-8")
    return not _reads_the_environment[path]


# The longest test modules (minutes, not seconds): handed to the xdist workers first, so that no worker
# starts one of them last while the other has finished (`--dist loadfile` keeps a module on one worker).
LONGEST_FIRST = (
    "tests/system/test_concurrency_pg.py",
    "tests/web/browser/test_accessibility_sweep.py",
    "tests/web/test_fuzz_api.py",
    "tests/system/test_crash_pg.py",
    "tests/bench/test_harness.py",
    "tests/bench/test_auth_bench.py",
    "tests/web/test_authorization_matrix.py",
    "tests/bench/test_pwa_bench.py",
    "tests/ledger/test_properties.py",
)


# Modules with a test that uses the shared Chromium (tests/web/browser_support.py: `browser`, and `page`
# through it), found at collection.
_BROWSER_MODULES: set[Path] = set()


def _order(item: pytest.Item) -> tuple[int, bool]:
    path = item.path.as_posix()
    longest = next((i for i, name in enumerate(LONGEST_FIRST) if path.endswith(name)), len(LONGEST_FIRST))
    return longest, item.path not in _BROWSER_MODULES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest modules first, then the modules that use the browser, one after another (so that they share
    one Chromium), then the rest; a stable sort: the order inside a module is kept. CI runs the suite twice
    (SQLite, then PostgreSQL); with ATRIUM_TEST_SKIP_DATABASE_INDEPENDENT=1 the second run skips what
    cannot depend on the database under test (pure rules, browser tests, benchmark smoke runs on their own
    files). A developer's single run keeps them."""
    _BROWSER_MODULES.update(item.path for item in items if "browser" in getattr(item, "fixturenames", ()))
    items.sort(key=_order)
    if os.environ.get("ATRIUM_TEST_SKIP_DATABASE_INDEPENDENT") != "1":
        return
    skip = pytest.mark.skip(reason="database-independent: ran in CI's SQLite run")
    for item in items:
        if _database_independent(item):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Close the shared Chromium after the last test of a run of browser modules, once the module's own
    fixtures are torn down (see tests/web/browser_support.py)."""
    try:
        return (yield)
    finally:
        if item.path in _BROWSER_MODULES and (nextitem is None or nextitem.path not in _BROWSER_MODULES):
            support = sys.modules.get("tests.web.browser_support")
            if support is not None:
                support.close_browser()


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("ATRIUM_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_root / 'atrium-test.db'}"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url.startswith("postgres") and worker:
        url = _per_worker_pg_database(url, worker)
    os.environ["ATRIUM_DATABASE_URL"] = url
    reset_settings_cache()
    db = Database(url)
    settings = get_settings().database  # as a server runs it: WAL checkpoints on a thread of their own
    db.checkpoint_in_background(settings.sqlite_checkpoint_ms, settings.sqlite_wal_restart_mb)
    if not db.is_sqlite:
        _reset_pg_schema(db)
    with db.engine.begin() as conn:
        metadata.create_all(conn)
        install_extras(conn)
    db_runtime.set_db(db)
    yield db
    db_runtime.set_db(None)
    db.dispose()


def _per_worker_pg_database(url: str, worker: str) -> str:
    """Each xdist worker gets its own PostgreSQL database, created if missing."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from atrium.db.engine import normalise_url

    u = make_url(normalise_url(url))
    name = f"{u.database}_{worker}"
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return u.set(database=name).render_as_string(hide_password=False)


def _reset_pg_schema(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture()
def db(database: Database) -> Iterator[Database]:
    """A database with empty tables; everything the test wrote is deleted afterwards."""
    yield database
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.engine.begin() as conn:
        # A test writes to a few of ~80 tables: one round trip finds those, and only they are emptied.
        # SQLite: a DELETE for every table cost 4-6 ms a test, the probe 0.3 ms. PostgreSQL: TRUNCATE costs
        # per table named (it swaps each table's files).
        probe = " UNION ALL ".join(
            f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in tables
        )
        found = {row[0] for row in conn.exec_driver_sql(probe)}
        written = [n for n in tables if n in found]
        if database.is_sqlite:
            if written:
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for name in written:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
        else:
            if written and _superuser(database):
                # DELETE with triggers off (foreign keys and the append-only rules are triggers): ~1 ms,
                # where TRUNCATE … CASCADE took 140-175 ms for a test's few tables, most of the PostgreSQL
                # run's time. Needs a superuser (CI's `postgres`); otherwise TRUNCATE, as before.
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for name in written:
                    conn.exec_driver_sql(f'DELETE FROM "{name}"')
            elif written:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{n}"' for n in written) + " CASCADE")
    vectors.forget_registrations()  # the feature vocabulary's row went with the tables


@functools.cache
def _superuser(database: Database) -> bool:
    with database.engine.connect() as conn:
        return bool(conn.exec_driver_sql(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())


@pytest.fixture()
def session(db: Database):  # type: ignore[no-untyped-def]
    """A plain write session; the test commits or not as the case needs."""
    with db.session() as s:
        yield s
        s.rollback()


# Apps by the settings they were made with. FastAPI resolves an app's included routers on the first
# requests that walk them (each route's dependants and pydantic adapters), ~90 ms per fresh app, and ~1,500
# tests use `client`: a test whose settings are the same gets the app made before (a fresh TestClient, so a
# fresh lifespan and cookie jar); one that changed a setting gets its own.
_APPS: dict[str, object] = {}


@pytest.fixture()
def shared_app(db: Database):  # type: ignore[no-untyped-def]
    """The whole app (create_app(start_background=False)) for the current settings, made once per settings."""
    from atrium.app import create_app

    key = repr(get_settings())
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(start_background=False)
    return app


@pytest.fixture()
def client(shared_app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(shared_app) as c:
        yield c
