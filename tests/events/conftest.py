"""Fixtures for the events tests: fake buses, a private consumer registry, an isolated NATS stream."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from atrium.config import EventSettings
from atrium.events import outbox
from atrium.events.consumers import Registry
from tests.events.factories import FakeBus

NATS_URL = os.environ.get("ATRIUM_TEST_NATS_URL")


@pytest.fixture(autouse=True)
def _quiet_wake_flag() -> Iterator[None]:
    outbox.outbox_written.clear()
    yield
    outbox.outbox_written.clear()


@pytest.fixture()
def registry() -> Registry:
    """A consumer registry private to the test (the process-wide one belongs to the domains)."""
    return Registry()


@pytest.fixture()
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture()
def nats_settings() -> Iterator[EventSettings]:
    """Event settings on a stream and subject prefix of this test alone, deleted afterwards."""
    if not NATS_URL:
        pytest.skip("needs ATRIUM_TEST_NATS_URL (a NATS server with JetStream)")
    run = uuid.uuid4().hex[:12]
    settings = EventSettings(
        nats_url=NATS_URL, stream=f"ATRIUM_TEST_{run}", subject_prefix=f"atrium_test_{run}.events"
    )
    yield settings
    asyncio.run(_delete_stream(NATS_URL, settings.stream))


async def _delete_stream(url: str, stream: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()
