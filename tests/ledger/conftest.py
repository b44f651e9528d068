"""Ledger test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.kit import clock
from atrium.ledger import service as ledger


@pytest.fixture()
def ls(db: Database) -> Iterator[Session]:
    """A write session whose work is COMMITTED after the test (so on PostgreSQL the deferred balance
    trigger judges it) and then must pass `ledger.check()`: every test leaves a consistent ledger."""
    with db.session() as s:
        yield s
        s.commit()
    with db.read_session() as r:
        report = ledger.check(r)
    assert report.ok, report.discrepancies


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    from datetime import UTC, datetime

    fc = clock.FrozenClock(datetime(2030, 1, 15, 9, 0, tzinfo=UTC))
    previous = clock.use(fc)
    try:
        yield fc
    finally:
        clock.use(previous)
