"""`atrium events relay --once` and `atrium events status`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from atrium.cli import app
from atrium.events import consumers
from atrium.events.consumers import Registry
from tests.events.factories import effect, emit, opened, rows

runner = CliRunner()


@pytest.fixture(autouse=True)
def _private_handlers(monkeypatch, registry: Registry) -> None:
    registry.subscribe("test.cli", ["AccountOpened"], effect)
    monkeypatch.setattr(consumers, "load_handlers", lambda: registry)


def test_status_then_relay_once_then_status(db):
    emit(db, opened(1), opened(2))

    before = runner.invoke(app, ["events", "status"])
    assert before.exit_code == 0, before.output
    assert "unpublished: 2" in before.output and "published:   0" in before.output

    relayed = runner.invoke(app, ["events", "relay", "--once"])
    assert relayed.exit_code == 0, relayed.output
    assert "published 4 events" in relayed.output  # two events and the two its consumer recorded

    after = runner.invoke(app, ["events", "status"])
    assert "unpublished: 0" in after.output and "published:   4" in after.output
    assert "test.cli: 2" in after.output


def test_relay_once_exits_non_zero_while_events_remain_unpublished(db, registry):
    registry.subscribe("test.broken", ["AccountOpened"], lambda s, e: 1 / 0)
    emit(db, opened(1))

    result = runner.invoke(app, ["events", "relay", "--once"])

    assert result.exit_code == 1
    assert "1 events are still unpublished" in result.output
    assert rows(db)[0].attempts == 1
    status = runner.invoke(app, ["events", "status"])
    assert "retrying:    1 (most attempts 1)" in status.output
