"""Maker-checker in the console: propose a new service or a change (`catalog.propose`: the definition form,
the switch, the window), the queue of proposals, one proposal with what it changes, and the checker's
decision (`catalog.approve`: approve, or reject with a reason). The maker never sees an approve or reject
button on their own proposal, and the catalogue refuses the POST anyway (403). The proposal rows and the
service's history rows are the audit of both sides; the pages show them.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.catalog import domain
from atrium.catalog import service as catalog
from atrium.catalog.errors import ServiceNotFound
from atrium.catalog.schemas import ProposalCreate, ProposalRead, ServiceDefinition, Window
from atrium.db.runtime import get_db
from atrium.kit.errors import AtriumError, ValidationFailed
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.pages.catalog import HOME, ServiceKey, service_view, staff_names
from atrium.web.staff.pages.catalog_forms import (
    LIST_FIELDS,
    TEXT_FIELDS,
    definition_from,
    icon_names,
    local_time,
    values_of,
)
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
VIEW, PROPOSE, APPROVE = "catalog.view", "catalog.propose", "catalog.approve"
QUEUE = HOME + "/proposals"
ProposalId = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
Short = Annotated[str, Form(max_length=200)]
Note = Annotated[str, Form(max_length=500)]
Version = Annotated[int, Form(ge=0, le=1_000_000)]
STATUSES = ("pending", "approved", "rejected", "withdrawn", "superseded")


def _form(request: Request, *, kind: str, values: dict[str, Any], base_version: int, status_code: int = 200,
          errors: dict[str, str] | None = None) -> Response:
    t = translator(request)
    return render(
        request, "staff/catalog_form.html", status_code=status_code,
        title=t("catalog.new.title") if kind == "create" else t("catalog.edit.title", key=values["key"]),
        nav="catalog", section="new" if kind == "create" else "services", kind=kind, values=values,
        base_version=base_version, errors=errors or {}, lines=domain.LINES, icons=icon_names(),
        kinds=domain.IDENTITY_KINDS, channels=domain.CHANNELS, placements=domain.PLACEMENTS,
    )


@router.get(HOME + "/new")
def new_service_form(request: Request, user: Annotated[ConsoleUser, permit(PROPOSE)]) -> Response:
    return _form(request, kind="create", values=values_of(None), base_version=0)


@router.get(HOME + "/services/{key}/edit")
def edit_service_form(
    request: Request, key: ServiceKey, user: Annotated[ConsoleUser, permit(PROPOSE)], session: ReadOnlySession
) -> Response:
    service = catalog.get_managed(session, key)
    return _form(request, kind="update", values=values_of(service.definition), base_version=service.version)


@router.post(QUEUE, dependencies=[Depends(csrf.verify)])
async def propose_definition(request: Request, user: Annotated[ConsoleUser, permit(PROPOSE)]) -> Response:
    """A new service or a changed definition. Field lists (kinds, channels, placements) are checkboxes, so
    the form is read whole; every value is bounded before use."""
    form = await request.form()
    kind = str(form.get("kind", ""))
    if kind not in ("create", "update"):
        raise ValidationFailed("kind is create or update", field="kind")
    values: dict[str, Any] = {f: str(form.get(f, ""))[:4000] for f in TEXT_FIELDS}
    values.update({f: [str(v)[:40] for v in form.getlist(f)][:10] for f in LIST_FIELDS})
    raw_version = str(form.get("base_version", "0"))
    base_version = int(raw_version) if raw_version.isdigit() and len(raw_version) < 8 else 0
    definition, errors = definition_from(values)
    if definition is None:
        return _form(request, kind=kind, values=values, base_version=base_version, status_code=422,
                     errors=errors)
    body = ProposalCreate(kind=kind, service_key=definition.key, base_version=base_version,  # type: ignore[arg-type]
                          definition=definition, note=values["note"][:500])
    try:
        proposal = get_db().run(lambda s: catalog.propose(s, user.id, body))
    except AtriumError as exc:
        if exc.status in (403, 404):
            raise
        field = "key" if exc.code == "service-exists" else str(exc.extra.get("field") or "form")
        t = translator(request)
        words = t(f"catalog.error.{exc.code}") if t.has(f"catalog.error.{exc.code}") else exc.detail
        return _form(request, kind=kind, values=values, base_version=base_version, status_code=422,
                     errors={field if field in values else "form": words})
    return redirect(request, f"{QUEUE}/{proposal.id}?{urlencode({'sent': '1'})}")


def _small_proposal(request: Request, user: ConsoleUser, key: str, body: ProposalCreate,
                    schedule: dict[str, str] | None = None) -> Response:
    try:
        proposal = get_db().run(lambda s: catalog.propose(s, user.id, body))
    except AtriumError as exc:
        if exc.status in (403, 404):
            raise
        t = translator(request)
        words = t(f"catalog.error.{exc.code}") if t.has(f"catalog.error.{exc.code}") else exc.detail
        with get_db().read_session() as s:
            return service_view(request, s, user, key, status_code=exc.status, schedule=schedule,
                                errors={body.kind: words})
    return redirect(request, f"{HOME}/services/{key}?{urlencode({'sent': proposal.id})}")


@router.post(HOME + "/services/{key}/switch", dependencies=[Depends(csrf.verify)])
def propose_switch(
    request: Request, key: ServiceKey, user: Annotated[ConsoleUser, permit(PROPOSE)],
    enabled: Annotated[str, Form(pattern="^(on|off)$")], base_version: Version, note: Note = "",
) -> Response:
    body = ProposalCreate(kind="switch", service_key=key, base_version=base_version, enabled=enabled == "on",
                          note=note)
    return _small_proposal(request, user, key, body)


@router.post(HOME + "/services/{key}/schedule", dependencies=[Depends(csrf.verify)])
def propose_schedule(
    request: Request, key: ServiceKey, user: Annotated[ConsoleUser, permit(PROPOSE)], base_version: Version,
    starts_at: Annotated[str, Form(max_length=20)] = "", ends_at: Annotated[str, Form(max_length=20)] = "",
    note: Note = "",
) -> Response:
    typed = {"starts_at": starts_at, "ends_at": ends_at, "note": note}
    try:
        window = Window(starts_at=local_time(starts_at), ends_at=local_time(ends_at))
    except ValueError:
        with get_db().read_session() as s:
            return service_view(request, s, user, key, status_code=422, schedule=typed,
                                errors={"schedule": translator(request)("catalog.error.time")})
    body = ProposalCreate(kind="schedule", service_key=key, base_version=base_version, window=window,
                          note=note)
    return _small_proposal(request, user, key, body, schedule=typed)


@router.get(QUEUE)
def proposals_page(
    request: Request, user: Annotated[ConsoleUser, permit(VIEW)], session: ReadOnlySession,
    status: Annotated[str, Query(max_length=16)] = "pending",
) -> Response:
    if status and status not in STATUSES:
        raise ValidationFailed("unknown status")
    proposals = catalog.list_proposals(session, status=status or None, limit=100)
    names = staff_names(session, {p.proposed_by for p in proposals} | {p.decided_by for p in proposals
                                                                         if p.decided_by})
    return render(
        request, "staff/catalog_proposals.html", title=translator(request)("catalog.proposals.title"),
        nav="catalog", section="proposals", proposals=proposals, status=status, statuses=STATUSES,
        names=names, pending=catalog.pending_count(session),
    )


def _changes(session: Session, p: ProposalRead) -> tuple[list[tuple[str, Any, Any]], int | None]:
    """(field, now, proposed) for every field the proposal changes, and the service's current version."""
    try:
        current = catalog.get_managed(session, p.service_key)
    except ServiceNotFound:
        current = None
    if p.kind in ("create", "update"):
        after = ServiceDefinition.model_validate(p.payload["definition"]).model_dump()
        before = current.definition.model_dump() if current is not None else {}
        rows = [(f, before.get(f), after[f]) for f in after if before.get(f) != after[f]]
    elif p.kind == "switch":
        rows = [("enabled", current.enabled if current else None, p.payload["enabled"])]
    else:
        window = current.window if current else Window()
        rows = [("starts_at", window.starts_at, Window.model_validate(p.payload).starts_at),
                ("ends_at", window.ends_at, Window.model_validate(p.payload).ends_at)]
    return rows, current.version if current is not None else None


def _proposal_view(request: Request, session: Session, proposal_id: str, *, status_code: int = 200,
                   sent: bool = False, errors: dict[str, str] | None = None, reason: str = "") -> Response:
    p = catalog.get_proposal(session, proposal_id)
    rows, version = _changes(session, p)
    t = translator(request)
    return render(
        request, "staff/catalog_proposal.html", status_code=status_code,
        title=t("catalog.proposal.title", key=p.service_key), nav="catalog", section="proposals", p=p,
        rows=rows, version=version, stale=p.status == "pending" and (version or 0) != p.base_version,
        names=staff_names(session, {p.proposed_by} | ({p.decided_by} if p.decided_by else set())),
        sent=sent, errors=errors or {}, reason=reason,
    )


@router.get(QUEUE + "/{proposal_id}")
def proposal_page(
    request: Request, proposal_id: ProposalId, user: Annotated[ConsoleUser, permit(VIEW)],
    session: ReadOnlySession, sent: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    return _proposal_view(request, session, proposal_id, sent=sent == "1")


@router.post(QUEUE + "/{proposal_id}/approve", dependencies=[Depends(csrf.verify)])
def approve(
    request: Request, proposal_id: ProposalId, user: Annotated[ConsoleUser, permit(APPROVE)]
) -> Response:
    entry = get_db().run(lambda s: catalog.approve(s, user.id, proposal_id))
    return redirect(request, f"{HOME}/services/{entry.service_key}?{urlencode({'approved': entry.version})}")


@router.post(QUEUE + "/{proposal_id}/reject", dependencies=[Depends(csrf.verify)])
def reject(
    request: Request, proposal_id: ProposalId, user: Annotated[ConsoleUser, permit(APPROVE)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        get_db().run(lambda s: catalog.reject(s, user.id, proposal_id, reason))
    except ValidationFailed as exc:
        if exc.extra.get("field") != "reason":
            raise
        with get_db().read_session() as s:
            return _proposal_view(request, s, proposal_id, status_code=422, reason=reason,
                                  errors={"reason": translator(request)("catalog.error.reason")})
    return redirect(request, f"{QUEUE}/{proposal_id}")


@router.post(QUEUE + "/{proposal_id}/withdraw", dependencies=[Depends(csrf.verify)])
def withdraw(
    request: Request, proposal_id: ProposalId, user: Annotated[ConsoleUser, permit(PROPOSE)]
) -> Response:
    get_db().run(lambda s: catalog.withdraw(s, user.id, proposal_id))
    return redirect(request, f"{QUEUE}/{proposal_id}")
