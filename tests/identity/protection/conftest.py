from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.clock import FrozenClock

PASSWORD = "correct horse battery"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture()
def frozen() -> Iterator[FrozenClock]:
    fake = FrozenClock(START)
    previous = clock.use(fake)
    try:
        yield fake
    finally:
        clock.use(previous)


def make_customer(db: Database, username: str = "mei") -> str:
    with db.unit_of_work() as s:
        return identity.create_customer(s, username=username, password=PASSWORD, display_name="王美").id


@pytest.fixture()
def customer_id(db: Database) -> str:
    return make_customer(db)
