"""The group commit tests' probe table, created and dropped around each test that asks for `store`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.db.session import Database
from tests.db.group_commit_support import probe_meta


@pytest.fixture()
def store(db: Database) -> Iterator[Database]:
    probe_meta.create_all(db.engine)
    yield db
    probe_meta.drop_all(db.engine)
