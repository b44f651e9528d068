"""Subscriptions to integration events and the inbox-deduplicating runner every bus delivers through.

A domain subscribes in its `handlers.py`:

    @subscribe("payments.notify_customer", ["TransferCompleted"])
    def notify(session: Session, event: TransferCompleted) -> None: ...

Buses deliver at least once, so a handler may see an event twice (a relay retry, a NATS redelivery after a
crash before the ack). `deliver` makes the *effect* happen once: in one unit of work it inserts the inbox
row (consumer, event id), runs the handler, and commits both together. A second delivery finds the row and
is skipped; a handler that raises rolls back the inbox row with its effect, so the event is retried.

The consumer name is the deduplication key: renaming a consumer makes it handle every retained event again.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.db.session import Database
from atrium.events.catalogue import EVENT_TYPES, Event, parse
from atrium.events.models import InboxEntry

if TYPE_CHECKING:
    from atrium.events.bus import Envelope

Handler = Callable[[Session, Any], object]
H = TypeVar("H", bound=Handler)

# Consumer names become inbox keys (80 chars) and, with dots and dashes folded, NATS durable names.
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,79}$")

HANDLERS_MODULE = "atrium.handlers"


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: frozenset[str]
    handler: Handler

    @property
    def durable_name(self) -> str:
        """The JetStream durable consumer name (no dots allowed there)."""
        return self.name.replace(".", "_").replace("-", "_")

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types


class Registry:
    """Consumers by name. One name, one handler: two handlers sharing a name would dedupe each other out."""

    def __init__(self) -> None:
        self._consumers: dict[str, Consumer] = {}

    @overload
    def subscribe(self, consumer_name: str, event_types: Iterable[str]) -> Callable[[H], H]: ...
    @overload
    def subscribe(self, consumer_name: str, event_types: Iterable[str], handler: H) -> H: ...

    def subscribe(
        self, consumer_name: str, event_types: Iterable[str], handler: H | None = None
    ) -> Callable[[H], H] | H:
        """Register `handler` for `event_types` under `consumer_name`; without a handler, a decorator."""
        types = frozenset(event_types)
        if not _NAME.match(consumer_name):
            raise ValueError(f"consumer name {consumer_name!r} must match {_NAME.pattern}")
        if not types:
            raise ValueError(f"consumer {consumer_name} subscribes to no event type")
        unknown = sorted(types - EVENT_TYPES.keys())
        if unknown:
            raise ValueError(f"consumer {consumer_name} subscribes to unknown event types {unknown}")

        def register(fn: H) -> H:
            consumer = Consumer(consumer_name, types, fn)
            if consumer_name in self._consumers:
                raise ValueError(f"duplicate consumer name {consumer_name}")
            if any(c.durable_name == consumer.durable_name for c in self._consumers.values()):
                raise ValueError(f"consumer name {consumer_name} collides with another after folding '.-'")
            self._consumers[consumer_name] = consumer
            return fn

        if handler is None:
            return register
        return register(handler)

    def for_type(self, event_type: str) -> list[Consumer]:
        return [c for c in self.all() if c.wants(event_type)]

    def all(self) -> list[Consumer]:
        return sorted(self._consumers.values(), key=lambda c: c.name)

    def get(self, name: str) -> Consumer:
        return self._consumers[name]

    def __len__(self) -> int:
        return len(self._consumers)


registry = Registry()


@overload
def subscribe(consumer_name: str, event_types: Iterable[str]) -> Callable[[H], H]: ...
@overload
def subscribe(consumer_name: str, event_types: Iterable[str], handler: H) -> H: ...


def subscribe(
    consumer_name: str, event_types: Iterable[str], handler: H | None = None
) -> Callable[[H], H] | H:
    """Subscribe a handler in the process-wide registry (see `Registry.subscribe`)."""
    if handler is None:
        return registry.subscribe(consumer_name, event_types)
    return registry.subscribe(consumer_name, event_types, handler)


def load_handlers(module: str = HANDLERS_MODULE) -> Registry:
    """Import every domain's handlers (through `atrium.handlers`) so their subscriptions register.

    The import is by name on purpose: the events layer sits below the domains and must not import them;
    the handlers module is a registration list that the domains add themselves to.
    """
    importlib.import_module(module)
    return registry


def deliver(db: Database, consumer: Consumer, envelope: Envelope) -> bool:
    """Run `consumer` on `envelope` once: True if the handler ran and committed, False for a duplicate.

    Raises whatever the handler raised (after rolling back its effect and the inbox row), so the caller
    (a bus) can retry the delivery later.
    """

    def work(session: Session) -> bool:
        if session.get(InboxEntry, (consumer.name, envelope.id)) is not None:
            return False
        session.add(InboxEntry(consumer=consumer.name, event_id=envelope.id))
        # Claim the key before the effect: a concurrent duplicate delivery blocks here on the primary key
        # and then fails, instead of running the handler a second time.
        session.flush()
        consumer.handler(session, _event(envelope))
        return True

    try:
        return db.run(work)
    except IntegrityError:
        if handled(db, consumer.name, envelope.id):
            return False
        raise


def handled(db: Database, consumer_name: str, event_id: str) -> bool:
    with db.read_session() as session:
        return session.get(InboxEntry, (consumer_name, event_id)) is not None


def _event(envelope: Envelope) -> Event:
    return parse(envelope.type, envelope.payload)
