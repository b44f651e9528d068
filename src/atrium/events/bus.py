"""The bus the relay publishes to: the `Bus` protocol, the message envelope and the in-process bus.

`publish` returns only once the bus has taken responsibility for the event (the in-process bus: every
subscribed consumer committed it; NATS: JetStream stored it and sent its PubAck) and raises otherwise. The
relay marks an outbox row published only after `publish` returned, which is what makes delivery
at-least-once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from atrium.config import EventSettings, get_settings
from atrium.db.session import Database
from atrium.events import consumers
from atrium.events.consumers import Registry
from atrium.events.models import OutboxEvent
from atrium.logs import get_logger

log = get_logger("atrium.events.bus")


@dataclass(frozen=True)
class Envelope:
    """One event on the wire: the outbox row minus relay bookkeeping. The payload holds ids and amounts."""

    id: str
    type: str
    aggregate_id: str | None
    occurred_at: datetime
    payload: dict[str, Any] = field(hash=False)
    seq: int | None = None

    @classmethod
    def from_row(cls, row: OutboxEvent) -> Envelope:
        return cls(row.id, row.type, row.aggregate_id, row.occurred_at, dict(row.payload), row.seq)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "aggregate_id": self.aggregate_id,
                "occurred_at": self.occurred_at.isoformat(),
                "payload": self.payload,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Envelope:
        d = json.loads(data)
        occurred_at = datetime.fromisoformat(d["occurred_at"])
        return cls(d["id"], d["type"], d["aggregate_id"], occurred_at, d["payload"])


class Bus(Protocol):
    name: str

    def publish(self, envelope: Envelope) -> None:
        """Hand the event over; return only when the bus acknowledged it, raise otherwise."""

    def start_consumers(self) -> None:
        """Start delivering to the registered consumers, if this bus delivers on its own."""

    def close(self) -> None:
        """Stop consumers and release connections."""


class DeliveryFailed(Exception):
    """Some in-process consumers raised; the event stays unpublished and is offered to them again."""

    def __init__(self, event_id: str, consumer_names: list[str]) -> None:
        super().__init__(f"event {event_id}: consumers {', '.join(consumer_names)} failed")
        self.event_id = event_id
        self.consumer_names = consumer_names


class InProcessBus:
    """Delivers each event synchronously to the subscribed consumers of this process.

    The outbox is this bus's durable log: if any consumer fails, `publish` raises, the relay leaves the row
    unpublished and retries it; consumers that already committed the event skip it through their inbox.
    """

    name = "in-process"

    def __init__(self, db: Database, registry: Registry | None = None) -> None:
        self.db = db
        self.registry = registry if registry is not None else consumers.registry

    def publish(self, envelope: Envelope) -> None:
        failed: list[str] = []
        for consumer in self.registry.for_type(envelope.type):
            try:
                consumers.deliver(self.db, consumer, envelope)
            except Exception as exc:  # one consumer's bug must not starve the others or kill the relay
                log.warning(
                    "consumer_failed",
                    consumer=consumer.name,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    error=type(exc).__name__,
                    exc_info=True,
                )
                failed.append(consumer.name)
        if failed:
            raise DeliveryFailed(envelope.id, failed)

    def start_consumers(self) -> None:
        """Nothing to start: delivery happens inside `publish`."""

    def close(self) -> None:
        """Nothing to release."""


def open_bus(
    db: Database, settings: EventSettings | None = None, registry: Registry | None = None
) -> Bus:
    """The bus the settings ask for: NATS JetStream when `nats_url` is set, else the in-process bus.

    Without an explicit registry, every domain's handlers are loaded first, so no event is ever "delivered"
    to an empty in-process registry and marked published before its consumers were registered.
    """
    settings = settings or get_settings().events
    if registry is None:
        registry = consumers.load_handlers()
    if settings.nats_url:
        from atrium.events.nats import NatsBus

        return NatsBus(settings, db, registry, ack_wait_s=settings.ack_wait_s)
    return InProcessBus(db, registry)
