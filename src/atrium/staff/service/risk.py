"""Anti-fraud cases for staff: the queue and one case — customers masked, every load recorded like the 360.

- The queue (`view_queue`) shows each case's customer by masked name: one `customer.search` record per load
  (screen "risk.queue"; how many cases were shown and the filters in `detail`, no customer ids — a queue
  shows many customers, as a search does). A queue with no case records nothing.
- A case (`view_case`) is the risk domain's case detail plus the customer's recent history from the other
  domains (transfers, devices, sign-ins): one `customer.view` record (screen "risk.case", the case id in
  `detail`), written in the same transaction before anything is returned. An unknown case id records
  nothing. A case whose customer the bank does not know (an external card authorisation) is recorded
  without a customer id and shows no history.
- List hits show the entry's masked display, never the stored key; IPs of sign-ins are masked to their
  network (`domain.mask_ip`), payees and devices of the decision come masked from the risk domain.
- Model promotion, two people: anyone who trains models (`risk.models.manage`) or decides promotions
  (`risk.models.approve`) may ask for one (`request_model_promotion`, with a reason); only a role that
  decides promotions approves or rejects (`decide_model_promotion`), and never the person who asked (the
  risk service refuses them: `PromotionSelfApproval`, 403). The roles are checked here as well as by the
  console's pages, so no caller grants what the table does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.risk import service as risk
from atrium.risk.errors import ListEntryNotFound
from atrium.risk.schemas import CaseDetail, CaseRead, PromotionRead, ReasonRead
from atrium.staff import permissions
from atrium.staff.domain import clean_reason
from atrium.staff.errors import PermissionDenied
from atrium.staff.schemas import (
    AccessRecordRead,
    CustomerSummary,
    DeviceLine,
    SignInLine,
    TransferLine,
)
from atrium.staff.service._common import summary
from atrium.staff.service.audit import record_access
from atrium.staff.service.customers import _overview, _security  # the 360's own readers, reused as is

CASE_REASON = "fraud case review"  # what a case read is recorded with when the analyst gives no reason
QUEUE_MAX = 100
RECENT_TRANSFERS = 10


@dataclass(frozen=True)
class QueueRow:
    case: CaseRead
    customer: CustomerSummary | None  # masked; None: no customer the bank knows
    top_reason: ReasonRead | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    open_count: int  # every open case, whatever the filters
    next_after: tuple[datetime, str] | None  # the last row's (opened_at, id) when there may be more
    access: AccessRecordRead | None  # None: nothing shown, nothing recorded


@dataclass(frozen=True)
class ListHitLine:
    list_kind: str
    subject_kind: str
    entry_id: str
    display: str  # the entry's mask ("10.1.*.*", "…1234") or the bank's own id
    reason: str
    expires_at: datetime | None


@dataclass(frozen=True)
class CaseView:
    detail: CaseDetail
    customer: CustomerSummary | None
    list_hits: list[ListHitLine]
    transfers: list[TransferLine] = field(default_factory=list)
    devices: list[DeviceLine] = field(default_factory=list)
    sign_ins: list[SignInLine] = field(default_factory=list)
    access: AccessRecordRead | None = None


def _customer(session: Session, customer_id: str | None) -> CustomerSummary | None:
    row = identity.get_customer(session, customer_id) if customer_id else None
    return summary(row) if row is not None else None


def view_queue(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    status: str | None = "open",
    outcome: str | None = None,
    channel: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> QueuePage:
    """The queue, oldest first, each row with its masked customer and the decision's first reason."""
    limit = max(1, min(limit, QUEUE_MAX))
    cases = risk.list_cases(session, status=status, outcome=outcome, channel=channel, limit=limit + 1,
                            after=after)
    more = len(cases) > limit
    cases = cases[:limit]
    access = None
    if cases:
        filters = " ".join(f"{k}={v}" for k, v in (("status", status), ("outcome", outcome),
                                                     ("channel", channel)) if v)
        access = record_access(
            session, staff_id=staff_id, staff_role=staff_role, action="customer.search", screen="risk.queue",
            reason=CASE_REASON, detail=f"shown={len(cases)} {filters}".strip() + (" page>1" if after else ""),
        )
    rows = []
    for case in cases:
        decision = risk.get_decision(session, case.decision_id)
        rows.append(QueueRow(case=case, customer=_customer(session, case.customer_id),
                             top_reason=decision.reasons[0] if decision.reasons else None))
    last = cases[-1] if cases else None
    return QueuePage(rows=rows, open_count=risk.count_open(session),
                     next_after=(last.opened_at, last.id) if more and last else None, access=access)


def _list_hits(session: Session, detail: CaseDetail) -> list[ListHitLine]:
    lines = []
    for hit in detail.decision.list_hits:
        entry_id = str(hit.get("entry_id", ""))
        try:
            entry = risk.get_entry(session, entry_id)
        except ListEntryNotFound:  # a hit logged before its entry was rolled back: show what is known
            lines.append(ListHitLine(list_kind=str(hit.get("list_kind", "")),
                                     subject_kind=str(hit.get("subject_kind", "")), entry_id=entry_id,
                                     display="…", reason="", expires_at=None))
            continue
        lines.append(ListHitLine(list_kind=entry.list_kind, subject_kind=entry.subject_kind,
                                 entry_id=entry.id, display=entry.display, reason=entry.reason,
                                 expires_at=entry.expires_at))
    return lines


def view_case(
    session: Session, *, staff_id: str, staff_role: str | None, case_id: str, reason: str | None = None
) -> CaseView:
    """One case with its evidence and the customer's recent history, recorded as one `customer.view`."""
    clean = clean_reason(reason or CASE_REASON)  # a bad reason fails before anything is read
    detail = risk.get_case(session, case_id)  # CaseNotFound: nothing recorded
    customer = _customer(session, detail.case.customer_id)
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="customer.view",
        customer_id=customer.id if customer else None, screen="risk.case", reason=clean,
        detail=f"case={detail.case.id}",
    )
    view = CaseView(detail=detail, customer=customer, list_hits=_list_hits(session, detail), access=access)
    if customer is None:
        return view
    overview = _overview(session, customer.id)
    security = _security(session, customer.id)
    return CaseView(detail=detail, customer=customer, list_hits=view.list_hits,
                    transfers=overview.transfers[:RECENT_TRANSFERS], devices=security.devices,
                    sign_ins=security.sign_ins, access=access)


PROMOTION_ASKERS = ("risk.models.manage", "risk.models.approve")
PROMOTION_DECIDER = "risk.models.approve"


def request_model_promotion(
    session: Session, *, staff_id: str, staff_role: str | None, model_id: str, reason: str
) -> PromotionRead:
    """Ask for a challenger to become the champion; a second person decides."""
    if not any(permissions.allowed(staff_role, action) for action in PROMOTION_ASKERS):
        raise PermissionDenied(f"the role {staff_role!r} may not ask for a model promotion",
                               action="risk.models.manage")
    return risk.request_promotion(session, model_id, staff_id, reason)


def decide_model_promotion(
    session: Session, *, staff_id: str, staff_role: str | None, promotion_id: str, approve: bool,
    note: str = "",
) -> PromotionRead:
    """Approve (the model becomes the champion) or reject (a note says why) another person's request."""
    permissions.require(staff_role, PROMOTION_DECIDER)
    if approve:
        return risk.approve_promotion(session, promotion_id, staff_id, note)
    return risk.reject_promotion(session, promotion_id, staff_id, note)
