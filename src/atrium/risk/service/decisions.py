"""Reading logged decisions, and what happens to them afterwards: the payment they belong to, how the
customer answered a challenge, and when the activity completed (the monitor's population)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from atrium.events import outbox
from atrium.events.catalogue import FraudConfirmed, RiskAlertRaised
from atrium.kit import clock
from atrium.kit.errors import Conflict, ValidationFailed
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.errors import DecisionNotFound
from atrium.risk.models import RiskDecision
from atrium.risk.schemas import DecisionDetail, DecisionRead
from atrium.risk.service import labels, views

log = get_logger("atrium.risk.decisions")
ChallengeResult = Literal["passed", "failed", "disowned"]


def _get(session: Session, decision_id: str) -> RiskDecision:
    row = repository.get_decision(session, decision_id)
    if row is None:
        raise DecisionNotFound(f"no risk decision {decision_id}")
    return row


def _case_id(session: Session, decision_id: str) -> str | None:
    case = repository.case_for_decision(session, decision_id)
    return case.id if case else None


def get_decision(session: Session, decision_id: str) -> DecisionDetail:
    row = _get(session, decision_id)
    return views.decision_detail(row, case_id=_case_id(session, row.id),
                                 label=views.latest_label(repository.labels_of(session, row.id)))


def decision_for_subject(session: Session, channel: str, subject_ref: str) -> DecisionRead | None:
    """The decision of a subject, if it was screened."""
    row = repository.decision_by_subject(session, channel, subject_ref)
    return views.decision_read(row, case_id=_case_id(session, row.id)) if row else None


def customer_decisions(session: Session, customer_id: str, *, limit: int = 20) -> list[DecisionRead]:
    """A customer's decisions, newest first (their security activity)."""
    return [views.decision_read(row, case_id=_case_id(session, row.id))
            for row in repository.customer_decisions(session, customer_id, limit=limit)]


def attach_transfer(session: Session, decision_id: str, transfer_id: str) -> None:
    """Link a decision to the transfer payments made for it (when its subject_ref is not the transfer id),
    so completion and the review events name the transfer."""
    row = _get(session, decision_id)
    if row.transfer_id not in (None, transfer_id):
        raise Conflict(f"decision {decision_id} belongs to another transfer")
    row.transfer_id = transfer_id
    session.flush()


def mark_completed(session: Session, transfer_id: str, at: datetime | None = None) -> int:
    """The transfer of these decisions completed: the post-event monitor may re-score them."""
    done = 0
    for row in repository.decisions_for_transfer(session, transfer_id):
        if row.completed_at is None:
            row.completed_at = at or clock.now()
            done += 1
    session.flush()
    return done


def report_challenge(session: Session, decision_id: str, result: ChallengeResult) -> DecisionRead:
    """How the customer answered a `challenge`: passed (nothing more), failed (alert the customer: someone
    may be trying), or disowned — "this wasn't me" — which labels the decision fraud. Recorded once; the
    same answer again is a no-op."""
    if result not in ("passed", "failed", "disowned"):
        raise ValidationFailed(f"unknown challenge result {result!r}")
    row = _get(session, decision_id)
    if row.challenge_result is not None:
        if row.challenge_result != result:
            raise Conflict(f"the challenge of {decision_id} was already answered ({row.challenge_result})")
        return views.decision_read(row, case_id=_case_id(session, row.id))
    row.challenge_result = result
    session.flush()
    if result == "disowned":
        labels.label(session, row.id, True, "customer")
        outbox.record(session, FraudConfirmed(decision_id=row.id, channel=row.channel,
                                              subject_ref=row.subject_ref, source="customer",
                                              customer_id=row.customer_id))
    if result != "passed" and row.customer_id:
        outbox.record(session, RiskAlertRaised(
            customer_id=row.customer_id, decision_id=row.id, channel=row.channel, outcome=row.outcome,
            reason_codes=[str(r.get("code")) for r in row.reasons], source="challenge"))
    log.info("risk_challenge_answered", decision_id=row.id, result=result)
    return views.decision_read(row, case_id=_case_id(session, row.id))
