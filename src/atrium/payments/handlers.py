"""Payments' reactions to other domains' events: the analyst's verdict on a transfer held for review.

- `RiskReviewReleased` → the held transfer goes on (`review.release_held`): own-bank payments complete,
  interbank ones go to the clearing rail; a QR payment then says it was paid.
- `RiskReviewRejected` → the hold is voided and the transfer ends `cancelled`; a QR code it used is
  payable again.

Exactly once: the consumer inbox runs each handler once per event, and both use cases act only on a
`held` transfer (row locked), so even a second delivery changes nothing. The transfer is found by the
decision's transfer id, or by the decision id it keeps (`Transfer.risk_decision_id`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.events.catalogue import RiskReviewRejected, RiskReviewReleased
from atrium.events.consumers import subscribe
from atrium.logs import get_logger
from atrium.payments.models import Transfer
from atrium.payments.qr import service as qr
from atrium.payments.service import review

log = get_logger("atrium.payments.handlers")

PAYMENT_CHANNELS = frozenset({"transfer", "qr"})


def _transfer_id(session: Session, event: RiskReviewReleased | RiskReviewRejected) -> str | None:
    if event.channel not in PAYMENT_CHANNELS:
        return None  # a sign-in or a card authorisation: not a transfer of ours
    if event.transfer_id:
        return event.transfer_id
    found = session.scalar(select(Transfer.id).where(Transfer.risk_decision_id == event.decision_id))
    if found is None:
        log.warning("risk_verdict_for_unknown_transfer", decision_id=event.decision_id)
    return found


@subscribe("payments.risk_released", [RiskReviewReleased.type])
def risk_released(session: Session, event: RiskReviewReleased) -> None:
    transfer_id = _transfer_id(session, event)
    if transfer_id is None:
        return
    done = review.release_held(session, transfer_id)
    if done is not None and done.kind == "qr" and done.status == "completed":
        qr.released(session, done.id)


@subscribe("payments.risk_rejected", [RiskReviewRejected.type])
def risk_rejected(session: Session, event: RiskReviewRejected) -> None:
    transfer_id = _transfer_id(session, event)
    if transfer_id is None:
        return
    done = review.cancel_held(session, transfer_id)
    if done is not None and done.kind == "qr":
        qr.free_code(session, done.id)
