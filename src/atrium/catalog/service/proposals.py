"""Maker-checker management of the catalogue: one operator proposes (a new service, a changed definition,
a switch on or off, a window), another approves or rejects it; the maker may withdraw it while pending.

Invariants:
- The checker is never the maker (`domain.check_checker`), for approvals and rejections alike.
- A proposal applies only to the version it was written against (`domain.check_base`). Applying one change
  supersedes every other pending proposal for that service: they were written against a version that no
  longer exists, so approving them would silently undo a change their maker never saw.
- Proposals are decided once; the proposal row (who proposed, who decided, when, why) and the history row
  of the applied change are the audit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from atrium.catalog import domain, repository
from atrium.catalog.errors import (
    ProposalClosed,
    ProposalNotFound,
    ServiceExists,
    ServiceNotFound,
    StaleProposal,
)
from atrium.catalog.models import CatalogProposal, CatalogService
from atrium.catalog.schemas import (
    HistoryRead,
    ManagedService,
    ProposalCreate,
    ProposalRead,
    ServiceDefinition,
    TabLayoutRead,
    Window,
)
from atrium.catalog.service import changes
from atrium.identity import service as identity_service
from atrium.kit import clock
from atrium.kit.errors import Forbidden, ValidationFailed
from atrium.kit.ids import new_id

Status = Literal["live", "off", "scheduled", "ended"]
STATUSES: tuple[str, ...] = ("live", "off", "scheduled", "ended")


def service_status(enabled: bool, starts_at: datetime | None, ends_at: datetime | None,
                   now: datetime | None = None) -> Status:
    moment = now or clock.now()
    if not enabled:
        return "off"
    if starts_at is not None and moment < starts_at:
        return "scheduled"
    if ends_at is not None and moment >= ends_at:
        return "ended"
    return "live"


def _managed(row: CatalogService) -> ManagedService:
    return ManagedService(
        key=row.key, definition=ServiceDefinition.model_validate(row.definition), enabled=row.enabled,
        window=Window(starts_at=row.starts_at, ends_at=row.ends_at), version=row.version,
        config_version=row.config_version, source=row.source, updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def list_managed(session: Session, *, line: str | None = None, status: str | None = None,
                 now: datetime | None = None) -> list[ManagedService]:
    rows = repository.list_services(session, line=line)
    if status is not None:
        rows = [r for r in rows if service_status(r.enabled, r.starts_at, r.ends_at, now) == status]
    return [_managed(r) for r in rows]


def get_managed(session: Session, key: str) -> ManagedService:
    row = repository.get_service(session, key)
    if row is None:
        raise ServiceNotFound("no such service", key=key)
    return _managed(row)


def list_tab_layouts(session: Session) -> list[TabLayoutRead]:
    """The bottom-tab layouts, highest priority first (they come from definition files)."""
    return [TabLayoutRead(key=r.key, identity_kind=r.identity_kind, audience=r.audience,  # type: ignore[arg-type]
                          priority=r.priority, tabs=list(r.tabs)) for r in repository.tab_layouts(session)]


def history(session: Session, key: str) -> list[HistoryRead]:
    return [HistoryRead.model_validate(h) for h in repository.history(session, key)]


def recent_history(session: Session, *, limit: int = 50) -> list[HistoryRead]:
    return [HistoryRead.model_validate(h) for h in repository.recent_history(session, limit=limit)]


def list_proposals(session: Session, *, status: str | None = None, service_key: str | None = None,
                   limit: int = 200) -> list[ProposalRead]:
    return [ProposalRead.model_validate(p)
            for p in repository.proposals(session, status=status, service_key=service_key, limit=limit)]


def get_proposal(session: Session, proposal_id: str) -> ProposalRead:
    row = repository.get_proposal(session, proposal_id)
    if row is None:
        raise ProposalNotFound("no such proposal")
    return ProposalRead.model_validate(row)


def pending_count(session: Session) -> int:
    return repository.pending_count(session)


def _staff(session: Session, staff_id: str) -> None:
    if identity_service.get_staff(session, staff_id) is None:
        raise Forbidden("only staff change the catalogue")


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _payload(body: ProposalCreate, row: CatalogService | None) -> dict[str, Any]:
    if body.kind in ("create", "update"):
        if body.definition is None:
            raise ValidationFailed("a new or changed service needs its definition", field="definition")
        definition = body.definition.model_dump()
        domain.validate_definition(definition)
        if definition["key"] != body.service_key:
            raise ValidationFailed("the definition's key is the service's key", field="key")
        if row is not None and definition["line"] != row.line:
            raise ValidationFailed("a service stays in its business line", field="line")
        payload: dict[str, Any] = {"definition": definition}
        if body.kind == "create":
            window = body.window or Window()
            domain.validate_window(window.starts_at, window.ends_at)
            payload.update(enabled=True if body.enabled is None else body.enabled,
                           starts_at=_iso(window.starts_at), ends_at=_iso(window.ends_at))
        return payload
    if body.kind == "switch":
        if body.enabled is None:
            raise ValidationFailed("say whether to switch the service on or off", field="enabled")
        return {"enabled": body.enabled}
    if body.window is None:
        raise ValidationFailed("a schedule needs a window", field="window")
    domain.validate_window(body.window.starts_at, body.window.ends_at)
    return {"starts_at": _iso(body.window.starts_at), "ends_at": _iso(body.window.ends_at)}


def propose(session: Session, staff_id: str, body: ProposalCreate) -> ProposalRead:
    """Record a maker's proposal (validated now, so the checker only ever sees well-formed changes)."""
    _staff(session, staff_id)
    row = repository.get_service(session, body.service_key)
    if body.kind == "create":
        if row is not None or repository.pending_create_for(session, body.service_key) is not None:
            raise ServiceExists("a service with that key exists or is already proposed", key=body.service_key)
        if body.base_version != 0:
            raise StaleProposal("a new service is proposed against version 0", base_version=body.base_version,
                                current_version=0)
    else:
        if row is None:
            raise ServiceNotFound("no such service", key=body.service_key)
        domain.check_base(body.base_version, row.version)
    proposal = CatalogProposal(
        id=new_id("cprp"), kind=body.kind, service_key=body.service_key, base_version=body.base_version,
        payload=_payload(body, row), status="pending", note=body.note.strip(), proposed_by=staff_id,
        proposed_at=clock.now(),
    )
    session.add(proposal)
    session.flush()
    return ProposalRead.model_validate(proposal)


def _open(session: Session, proposal_id: str) -> CatalogProposal:
    proposal = repository.get_proposal(session, proposal_id, lock=True)
    if proposal is None:
        raise ProposalNotFound("no such proposal")
    if proposal.status == "superseded":
        raise StaleProposal("another change to this service was applied after this proposal was made",
                            base_version=proposal.base_version)
    if proposal.status != "pending":
        raise ProposalClosed(f"the proposal is already {proposal.status}", status=proposal.status)
    return proposal


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _close(proposal: CatalogProposal, status: str, staff_id: str, reason: str = "") -> None:
    proposal.status = status
    proposal.decided_by = staff_id
    proposal.decided_at = clock.now()
    proposal.reason = reason


def approve(session: Session, staff_id: str, proposal_id: str) -> HistoryRead:
    """The checker applies a pending proposal. Refused for its maker (403) and when the service moved on
    since the proposal was written (409); either way nothing changes."""
    _staff(session, staff_id)
    proposal = _open(session, proposal_id)
    domain.check_checker(proposal.proposed_by, staff_id)
    row = repository.get_service(session, proposal.service_key, lock=True)
    domain.check_base(proposal.base_version, row.version if row is not None else 0)
    p = proposal.payload
    common = {"proposed_by": proposal.proposed_by, "approved_by": staff_id, "proposal_id": proposal.id,
              "note": proposal.note}
    if proposal.kind == "create":
        row = changes.create(session, dict(p["definition"]), enabled=bool(p.get("enabled", True)),
                             starts_at=_when(p.get("starts_at")), ends_at=_when(p.get("ends_at")), **common)
    elif row is None:
        raise ServiceNotFound("no such service", key=proposal.service_key)
    elif proposal.kind == "update":
        changes.change(session, row, "update", definition=dict(p["definition"]), source="console", **common)
    elif proposal.kind == "switch":
        changes.change(session, row, "switch", enabled=bool(p["enabled"]), **common)
    else:
        changes.change(session, row, "schedule", window=(_when(p.get("starts_at")), _when(p.get("ends_at"))),
                       **common)
    _close(proposal, "approved", staff_id)
    supersede_pending(session, proposal.service_key, staff_id, f"superseded by {proposal.id}",
                      keep=proposal.id)
    session.flush()
    return history(session, proposal.service_key)[0]


def supersede_pending(session: Session, key: str, actor: str, reason: str, *, keep: str | None = None) -> int:
    """Close the pending proposals for `key` (except `keep`) after a change made them stale."""
    closed = 0
    for other in repository.proposals(session, status="pending", service_key=key):
        if other.id != keep:
            _close(other, "superseded", actor, reason)
            closed += 1
    return closed


def reject(session: Session, staff_id: str, proposal_id: str, reason: str) -> ProposalRead:
    """The checker turns a proposal down, with a reason the maker will read. The service is unchanged."""
    _staff(session, staff_id)
    reason = reason.strip()
    if not 3 <= len(reason) <= 500:
        raise ValidationFailed("say why the proposal is rejected (3–500 characters)", field="reason")
    proposal = _open(session, proposal_id)
    domain.check_checker(proposal.proposed_by, staff_id)
    _close(proposal, "rejected", staff_id, reason)
    session.flush()
    return ProposalRead.model_validate(proposal)


def withdraw(session: Session, staff_id: str, proposal_id: str) -> ProposalRead:
    """The maker takes back their own pending proposal."""
    proposal = _open(session, proposal_id)
    if proposal.proposed_by != staff_id:
        raise Forbidden("only the operator who proposed a change can withdraw it")
    _close(proposal, "withdrawn", staff_id)
    session.flush()
    return ProposalRead.model_validate(proposal)
