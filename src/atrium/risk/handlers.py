"""Risk's reactions to other domains' events: a completed transfer joins the post-event monitor's
population (its decision is marked completed). Exactly once through the consumer inbox; marking twice
changes nothing anyway."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.events.catalogue import TransferCompleted
from atrium.events.consumers import subscribe
from atrium.risk import service


@subscribe("risk.transfer_completed", [TransferCompleted.type])
def transfer_completed(session: Session, event: TransferCompleted) -> None:
    service.mark_completed(session, event.transfer_id, event.occurred_at)
