from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from atrium.identity import service as identity
from atrium.kit import clock
from tests.identity.devices.keys import SoftDevice

NOW = datetime(2030, 5, 1, 9, 0, 12, 345000, tzinfo=UTC)


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    fc = clock.FrozenClock(NOW)
    previous = clock.use(fc)
    try:
        yield fc
    finally:
        clock.use(previous)


@pytest.fixture()
def customer_id(session) -> str:  # type: ignore[no-untyped-def]
    return identity.create_customer(session, username="mei", password="correct horse", display_name="王美").id


@pytest.fixture()
def other_customer_id(session) -> str:  # type: ignore[no-untyped-def]
    return identity.create_customer(session, username="lei", password="correct horse", display_name="李雷").id


@pytest.fixture()
def soft() -> SoftDevice:
    return SoftDevice()
