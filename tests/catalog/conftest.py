from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.catalog import ranking


@pytest.fixture(autouse=True)
def _default_ranker() -> Iterator[None]:
    """A test that installs a ranker never leaks it into the next."""
    yield
    ranking.reset_ranker()
