"""Small helpers for the events tests: a fake bus, events, a handler effect, polling."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.events import outbox
from atrium.events.bus import DeliveryFailed, Envelope
from atrium.events.catalogue import AccountOpened, Event, PaymentLimitChanged
from atrium.events.models import OutboxEvent


class FakeBus:
    """Records what it was given. `down` makes every publish fail like a broker that is away;
    `refuse` holds event ids that fail like a consumer refusing that one event."""

    name = "fake"

    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.calls = 0
        self.down = False
        self.refuse: set[str] = set()
        self.delay_s = 0.0

    def publish(self, envelope: Envelope) -> None:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.down:
            raise ConnectionError("broker unavailable")
        if envelope.id in self.refuse:
            raise DeliveryFailed(envelope.id, ["test.consumer"])
        self.published.append(envelope)

    def start_consumers(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.published]


def opened(n: int = 0, *, account_id: str | None = None) -> AccountOpened:
    return AccountOpened(
        account_id=account_id or f"acc_{n:04d}", customer_id=f"cus_{n:04d}", product="current", currency="CNY"
    )


def emit(db: Database, *events: Event) -> list[str]:
    """Commit `events` in one producing transaction; returns their ids in order."""
    with db.unit_of_work() as s:
        for e in events:
            outbox.record(s, e)
    return [e.id for e in events]


def effect(session: Session, event: Event) -> None:
    """A handler's effect in the database, committed (or rolled back) together with its inbox row."""
    customer_id = event.customer_id  # type: ignore[attr-defined]
    outbox.record(session, PaymentLimitChanged(customer_id=customer_id, setting=f"effect:{event.id}"))


def effects(db: Database, event_id: str | None = None) -> int:
    with db.read_session() as s:
        q = select(func.count()).where(OutboxEvent.type == "PaymentLimitChanged")
        if event_id is not None:
            q = q.where(OutboxEvent.payload["setting"].as_string() == f"effect:{event_id}")
        return s.scalar(q) or 0


def rows(db: Database) -> list[OutboxEvent]:
    with db.read_session() as s:
        return list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq)))


def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
