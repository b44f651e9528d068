from __future__ import annotations

import threading

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from atrium.events.catalogue import Event
from atrium.events.models import OutboxEvent

# Set after any commit that wrote outbox rows, so the relay publishes at once instead of at its next poll.
outbox_written = threading.Event()


def record(session: Session, event: Event) -> OutboxEvent:
    """Add `event` to the outbox in the caller's transaction. It is published only if that commits."""
    row = OutboxEvent(
        id=event.id,
        type=event.type,
        aggregate_id=event.aggregate_id(),
        payload=event.model_dump(mode="json"),
        occurred_at=event.occurred_at,
    )
    session.add(row)
    session.info["outbox_dirty"] = True
    return row


@sa_event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    if session.info.pop("outbox_dirty", False):
        outbox_written.set()


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("outbox_dirty", None)
