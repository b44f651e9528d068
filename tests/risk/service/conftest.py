"""Fixtures for the risk service tests: a session, a fresh process cache per test, a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from atrium.kit import clock
from atrium.kit.clock import FrozenClock
from atrium.risk.service import setup, state
from tests.risk.service.factories import generous_budgets


@pytest.fixture(autouse=True)
def _budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test here decides with generous budgets unless it sets its own (see `generous_budgets`)."""
    with generous_budgets(monkeypatch):
        yield


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test starts like a new process: no feature state, no cached configuration."""
    state.reset()
    setup.clear()
    yield
    state.reset()
    setup.clear()


@pytest.fixture()
def s(db) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    with db.session() as session:
        yield session
        session.rollback()


@pytest.fixture()
def frozen() -> Iterator[FrozenClock]:
    fake = FrozenClock(datetime(2025, 3, 3, 10, 0, tzinfo=UTC))
    previous = clock.use(fake)
    yield fake
    clock.use(previous)


@pytest.fixture()
def risk_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set ATRIUM_RISK__* for one test: `risk_settings(policies={...})`."""
    import json

    from atrium.config import reset_settings_cache

    def apply(**values: object) -> None:
        for name, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            monkeypatch.setenv(f"ATRIUM_RISK__{name.upper()}", text)
        reset_settings_cache()

    yield apply
    monkeypatch.undo()
    reset_settings_cache()
