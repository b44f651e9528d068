"""The ASGI module the crash test serves: Atrium's real app (`atrium.asgi:app`) plus one probe consumer.

The probe subscribes to TransferCompleted under the name `system.crash_probe`. Its handler has nothing to
do: `consumers.deliver` writes the inbox row (probe, event id) in the same commit as the handler, and that
row is the evidence the test reads — every committed transfer's event reached a consumer, through the
in-process bus or through NATS JetStream and a durable pull consumer, once. It is registered before the app
starts its relay, so both buses deliver to it like to any domain's consumer. Only the server subprocess
imports this module (the test reads `server.PROBE`), so the test process's consumer registry and
logging stay untouched.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.events.catalogue import TransferCompleted
from atrium.events.consumers import subscribe
from tests.system.server import PROBE


@subscribe(PROBE, ["TransferCompleted"])
def record_delivery(session: Session, event: TransferCompleted) -> None:
    """Intentionally empty: the inbox row `deliver` commits with this call is the record."""


from atrium.asgi import app  # noqa: E402 - after the probe registered, before the relay starts

__all__ = ["PROBE", "app"]
