from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from atrium.kit import clock


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    """Bank time frozen at 2025-03-10 10:00 CST (02:00 UTC); tests move it with `.set(...)`."""
    fc = clock.FrozenClock(datetime(2025, 3, 10, 2, 0, tzinfo=UTC))
    previous = clock.use(fc)
    try:
        yield fc
    finally:
        clock.use(previous)
