"""Fixtures shared by every web test. The browser fixtures are defined once here, so the mobile and the
staff browser tests share one Playwright instance per worker (two sync Playwright instances cannot run in
one thread).

Every web test starts with the service catalogue that `atrium migrate` writes (the business lines'
definition files): the app shell draws its tabs, home and "all services" from it, as in production. The
files are synced once per worker and the rows copied back into the emptied tables before each test (a
sync per test would cost ~0.1 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from atrium.catalog import service as catalog
from atrium.db.session import Database
from atrium.schema import metadata
from tests.web.browser_support import browser, live_server, page  # noqa: F401

_CATALOGUE_TABLES = [t for t in metadata.sorted_tables if t.name.startswith("catalog_")]
_snapshot: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(autouse=True)
def synced_catalogue(db: Database) -> Iterator[None]:
    if not _snapshot:
        with db.unit_of_work() as s:
            catalog.sync_definitions(s)
        with db.engine.connect() as conn:
            for table in _CATALOGUE_TABLES:
                _snapshot[table.name] = [dict(r._mapping) for r in conn.execute(table.select())]
    else:
        with db.engine.begin() as conn:
            for table in _CATALOGUE_TABLES:
                if _snapshot[table.name]:
                    conn.execute(table.insert(), _snapshot[table.name])
    yield
