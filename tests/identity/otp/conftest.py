from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.kit import clock
from tests.identity.otp.support import frozen_clock


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    yield from frozen_clock()
