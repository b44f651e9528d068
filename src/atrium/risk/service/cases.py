"""The analysts' case queue.

- A case is opened by screening (`review`: the money is held; `deny` when configured) or by the monitor
  (completed activity that scores high later). One case per decision.
- Resolving moves an open case to released | confirmed | closed exactly once: a conditional UPDATE
  (`status = 'open'`), so of two analysts acting at once the second gets `CaseClosed` (409) and nothing is
  released twice. Every action — opening, assignment, notes, resolution, list entries — appends a
  `risk_case_actions` row with the acting staff id.
- release: the held activity goes ahead (RiskReviewReleased) and the decision is labelled genuine.
  confirm_fraud: labelled fraud (FraudConfirmed; RiskReviewRejected when money was held). close: genuine,
  for cases holding nothing (a held case must be released or confirmed: `CaseHeld`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from atrium.events import outbox
from atrium.events.catalogue import FraudConfirmed, RiskReviewRejected, RiskReviewReleased
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.errors import CaseClosed, CaseHeld, CaseNotFound, DecisionNotFound
from atrium.risk.models import RiskCase, RiskDecision
from atrium.risk.schemas import CaseDetail, CaseRead, Contribution, ListEntryRead
from atrium.risk.service import labels, lists, setup, views

log = get_logger("atrium.risk.cases")
RECENT = 20  # the customer's other decisions shown beside a case


def open_case(session: Session, decision: RiskDecision, *, origin: str, held: bool,
              note: str = "") -> RiskCase:
    """Open the case of `decision` (or return the one it has)."""
    existing = repository.case_for_decision(session, decision.id)
    if existing is not None:
        return existing
    now = clock.now()
    case = RiskCase(id=new_id("rcas"), decision_id=decision.id, customer_id=decision.customer_id,
                    channel=decision.channel, outcome=decision.outcome, origin=origin, held=held,
                    status="open", note=note, opened_at=now, updated_at=now)
    session.add(case)
    session.flush()
    repository.add_action(session, case.id, "opened", None, to_status="open", note=note,
                          detail={"origin": origin, "held": held})
    return case


def _load(session: Session, case_id: str) -> tuple[RiskCase, RiskDecision]:
    case = repository.get_case(session, case_id) if case_id else None
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    decision = repository.get_decision(session, case.decision_id)
    if decision is None:  # pragma: no cover - a foreign key guarantees it
        raise DecisionNotFound(f"no risk decision {case.decision_id}")
    return case, decision


def list_cases(session: Session, *, status: str | None = "open", outcome: str | None = None,
               channel: str | None = None, limit: int = 50,
               after: tuple[datetime, str] | None = None) -> list[CaseRead]:
    """The queue, oldest first. `after` is the last row's (opened_at, id) for the next page."""
    rows = repository.cases(session, status=status, outcome=outcome, channel=channel, limit=limit,
                            after=after)
    out = []
    for row in rows:
        decision = repository.get_decision(session, row.decision_id)
        if decision is not None:
            out.append(views.case_read(row, decision))
    return out


def count_open(session: Session) -> int:
    return repository.count_cases(session, "open")


def get_case(session: Session, case_id: str) -> CaseDetail:
    """Everything an analyst needs: the decision and its evidence, the champion's explanation of its
    features, the customer's other recent decisions, the history and the labels."""
    case, decision = _load(session, case_id)
    label_rows = repository.labels_of(session, decision.id)
    recent = []
    if decision.customer_id:
        for other in repository.customer_decisions(session, decision.customer_id, limit=RECENT,
                                                   exclude=decision.id):
            other_case = repository.case_for_decision(session, other.id)
            recent.append(views.decision_read(other, case_id=other_case.id if other_case else None))
    detail = views.decision_detail(decision, case_id=case.id, label=views.latest_label(label_rows))
    return CaseDetail(
        case=views.case_read(case, decision), decision=detail, explanation=_explain(session, decision),
        recent=recent, actions=[views.action_read(a) for a in repository.case_actions(session, case.id)],
        labels=[views.label_read(lab) for lab in label_rows],
    )


def _explain(session: Session, decision: RiskDecision) -> list[Contribution]:
    champion = setup.current(session).champion
    if champion is None or not repository.has_features(decision):
        return []
    features = repository.logged_features(decision)
    return [Contribution(feature=name, value=views.finite_or_none(features.get(name)), contribution=value)
            for name, value in champion.explain(features, k=5)]


def assign_case(session: Session, case_id: str, staff_id: str) -> CaseRead:
    case, decision = _load(session, case_id)
    if case.status != "open":
        raise CaseClosed(f"case {case_id} is {case.status}")
    case.assignee = staff_id
    case.updated_at = clock.now()
    session.flush()
    repository.add_action(session, case.id, "assigned", staff_id)
    return views.case_read(case, decision)


def note_case(session: Session, case_id: str, staff_id: str, note: str) -> CaseRead:
    case, decision = _load(session, case_id)
    repository.add_action(session, case.id, "note", staff_id, note=note)
    return views.case_read(case, decision)


def _resolve(session: Session, case_id: str, staff_id: str, to_status: str, resolution: str,
             note: str) -> tuple[RiskCase, RiskDecision]:
    case, decision = _load(session, case_id)
    if not repository.resolve_case(session, case.id, to_status=to_status, resolution=resolution,
                                   staff_id=staff_id, note=note or case.note, at=clock.now()):
        session.refresh(case)
        raise CaseClosed(f"case {case_id} was already {case.status}")
    session.refresh(case)
    repository.add_action(session, case.id, resolution, staff_id, from_status="open", to_status=to_status,
                          note=note)
    log.info("risk_case_resolved", case_id=case.id, resolution=resolution, staff_id=staff_id)
    return case, decision


def release_case(session: Session, case_id: str, staff_id: str, note: str = "") -> CaseRead:
    """Let the held activity through; the decision is labelled genuine."""
    case, decision = _resolve(session, case_id, staff_id, "released", "release", note)
    labels.label(session, decision.id, False, "release", staff_id)
    if case.held:
        outbox.record(session, RiskReviewReleased(
            decision_id=decision.id, case_id=case.id, channel=decision.channel,
            subject_ref=decision.subject_ref, staff_id=staff_id, transfer_id=decision.transfer_id,
            customer_id=decision.customer_id))
    return views.case_read(case, decision)


def confirm_fraud(session: Session, case_id: str, staff_id: str, note: str = "") -> CaseRead:
    """Fraud: label it (the next model learns it), cancel a held activity, tell the domains."""
    case, decision = _resolve(session, case_id, staff_id, "confirmed", "confirm_fraud", note)
    labels.label(session, decision.id, True, "analyst", staff_id)
    if case.held:
        outbox.record(session, RiskReviewRejected(
            decision_id=decision.id, case_id=case.id, channel=decision.channel,
            subject_ref=decision.subject_ref, staff_id=staff_id, transfer_id=decision.transfer_id,
            customer_id=decision.customer_id))
    outbox.record(session, FraudConfirmed(
        decision_id=decision.id, case_id=case.id, channel=decision.channel, subject_ref=decision.subject_ref,
        source="analyst", customer_id=decision.customer_id))
    return views.case_read(case, decision)


def close_case(session: Session, case_id: str, staff_id: str, note: str = "") -> CaseRead:
    """Genuine, nothing held: label it genuine and close."""
    case, _ = _load(session, case_id)
    if case.held and case.status == "open":
        raise CaseHeld("this case holds a payment: release it or confirm fraud")
    case, decision = _resolve(session, case_id, staff_id, "closed", "close", note)
    labels.label(session, decision.id, False, "close", staff_id)
    return views.case_read(case, decision)


def block_from_case(session: Session, case_id: str, staff_id: str, subject_kind: str, *,
                    list_kind: str = "block", reason: str = "",
                    expires_at: datetime | None = None) -> ListEntryRead:
    """Put an entity of the case's decision (its card, device, payee, …) on a list."""
    case, decision = _load(session, case_id)
    entry = lists.add_entry_for_decision(session, decision.id, subject_kind, staff_id, list_kind=list_kind,
                                         reason=reason or f"case {case.id}", expires_at=expires_at)
    repository.add_action(session, case.id, f"list_{list_kind}", staff_id, note=reason,
                          detail={"entry_id": entry.id, "subject_kind": subject_kind})
    return entry
