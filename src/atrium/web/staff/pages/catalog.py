"""The service catalogue in the console (`catalog.view`): every service with its business line and status,
one service's page (its definition, its audience rule in words, its version history with who proposed and
who approved each change, its pending proposals) and "who would see this": a count over a sample of
customers, and a check of one customer by id. Proposing and deciding are `catalog_proposals`.

Reading customers for the preview is a staff read of customer data, recorded through
`staff.service.record_access` in the same transaction: the sample as one search record (what was counted,
no customer ids), the one-customer check as a view of that customer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.catalog import domain
from atrium.catalog import service as catalog
from atrium.catalog.defaults import BUILTIN_TABS
from atrium.catalog.schemas import HistoryRead, ManagedService, PreviewRead, ProposalRead, ViewerCheck
from atrium.db.runtime import get_db
from atrium.identity import service as identity
from atrium.kit.errors import NotFound, ValidationFailed
from atrium.staff import service as staff_service
from atrium.web.deps import ReadOnlySession
from atrium.web.staff.pages.catalog_forms import local_text
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
VIEW = "catalog.view"
HOME = "/staff/catalog"
ServiceKey = Annotated[str, Path(min_length=3, max_length=80, pattern=r"^[a-z0-9_.]+$")]
CONFIGURATION = "configuration"


def staff_names(session: Session, ids: set[str]) -> dict[str, str]:
    """Display names for the staff ids on a page ("configuration" stays as it is: the template words it)."""
    names = {}
    for staff_id in ids - {CONFIGURATION}:
        row = identity.get_staff(session, staff_id)
        names[staff_id] = f"{row.display_name} ({row.username})" if row is not None else staff_id
    return names


def people_of(history: list[HistoryRead], proposals: list[ProposalRead]) -> set[str]:
    ids = {h.proposed_by for h in history} | {h.approved_by for h in history}
    return ids | {p.proposed_by for p in proposals} | {p.decided_by for p in proposals if p.decided_by}


@router.get(HOME)
def services_page(
    request: Request,
    user: Annotated[ConsoleUser, permit(VIEW)],
    session: ReadOnlySession,
    line: Annotated[str, Query(max_length=24)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    if line and line not in domain.LINES:
        raise ValidationFailed("unknown business line")
    if status and status not in catalog.STATUSES:
        raise ValidationFailed("unknown status")
    services = catalog.list_managed(session, line=line or None, status=status or None)
    return render(
        request, "staff/catalog.html", title=translator(request)("catalog.title"), nav="catalog",
        section="services", services=services, lines=domain.LINES, statuses=catalog.STATUSES, line=line,
        status=status, status_fn=_status, pending=catalog.pending_count(session),
        layouts=catalog.list_tab_layouts(session), builtin_tabs=BUILTIN_TABS,
    )


def _status(s: ManagedService) -> str:
    return catalog.service_status(s.enabled, s.window.starts_at, s.window.ends_at)


def _preview(
    session: Session, user: ConsoleUser, service: ManagedService, *, sample: bool, customer_id: str,
    reason: str,
) -> tuple[PreviewRead | None, list[ViewerCheck] | None, str]:
    """Run what the staff member asked for, recording the reads. Returns (counts, checks, error)."""
    definition = service.definition.model_dump()
    counts = checks = None
    if sample:
        counts = catalog.audience_preview(session, definition)
        staff_service.record_access(
            session, staff_id=user.id, staff_role=user.role, action="customer.search",
            screen="catalog.preview", reason=reason or None,
            detail=f"catalog audience preview {service.key}: {counts.matched} of {counts.sampled} customers",
        )
    if customer_id:
        if identity.get_customer(session, customer_id) is None:
            return counts, None, "not-found"
        checks = catalog.check_viewer(session, definition, customer_id)
        staff_service.record_access(
            session, staff_id=user.id, staff_role=user.role, action="customer.view", customer_id=customer_id,
            screen="catalog.audience", reason=reason or None, detail=f"catalog audience check {service.key}",
        )
    return counts, checks, ""


def service_view(
    request: Request, session: Session, user: ConsoleUser, key: str, *, status_code: int = 200,
    counts: PreviewRead | None = None, checks: list[ViewerCheck] | None = None, problem: str = "",
    customer_id: str = "", reason: str = "", sent: str = "", schedule: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, approved: str = "",
) -> Response:
    """One service's page (also re-drawn with a refused switch or schedule form's errors)."""
    service = catalog.get_managed(session, key)
    history = catalog.history(session, key)
    proposals = catalog.list_proposals(session, service_key=key, limit=20)
    t = translator(request)
    return render(
        request, "staff/catalog_service.html", status_code=status_code,
        title=service.definition.name.get(t.locale) or service.key, nav="catalog", section="services",
        service=service, status=_status(service),
        history=history, proposals=proposals, names=staff_names(session, people_of(history, proposals)),
        counts=counts, checks=checks, problem=problem, customer_id=customer_id, reason=reason,
        sent=next((p for p in proposals if p.id == sent), None),
        schedule=schedule or {"starts_at": local_text(service.window.starts_at),
                              "ends_at": local_text(service.window.ends_at), "note": ""},
        errors=errors or {}, approved=approved,
    )


@router.get(HOME + "/services/{key}")
def service_page(
    request: Request,
    key: ServiceKey,
    user: Annotated[ConsoleUser, permit(VIEW)],
    sample: Annotated[str, Query(max_length=3)] = "",
    customer_id: Annotated[str, Query(max_length=40)] = "",
    reason: Annotated[str, Query(max_length=200)] = "",
    sent: Annotated[str, Query(max_length=40)] = "",
    approved: Annotated[str, Query(max_length=8, pattern=r"^\d*$")] = "",
) -> Response:
    customer_id = customer_id.strip()
    if customer_id and "customers.view" not in user.can:
        raise NotFound("no such customer")  # a role that may not read customers cannot check one either

    def work(session: Session) -> Response:
        service = catalog.get_managed(session, key)
        counts, checks, problem = _preview(session, user, service, sample=sample == "1",
                                           customer_id=customer_id, reason=reason.strip())
        return service_view(request, session, user, key, counts=counts, checks=checks, problem=problem,
                            customer_id=customer_id, reason=reason, sent=sent, approved=approved)

    # A write transaction: the preview's access records commit with the page (rolled back if it fails).
    return get_db().run(work)
