"""/api/v1/catalog: the services and bottom tabs the calling customer sees, in the identity its session
currently acts as. No route takes a customer or identity id — the principal is the viewer — and a service
the viewer may not see answers 404 exactly like one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.orm import Session

from atrium.catalog import service
from atrium.catalog.schemas import Channel, ServiceRead, TabRead, Viewer
from atrium.identity import identities
from atrium.identity import service as identity_service
from atrium.identity.principal import Principal
from atrium.web.deps import CurrentCustomer, ReadOnlySession, WriteSession

router = APIRouter(prefix="/catalog", tags=["catalog"])

KeyPath = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9_.]+$")]


def _viewer(session: Session, customer: Principal, channel: str) -> Viewer:
    identity = identities.current_identity(session, customer)
    ui_mode = identity_service.ui_mode_of(session, customer.id) or "standard"  # the person's chosen mode
    return service.viewer_for(session, customer_id=customer.id, identity=identity, channel=channel,
                              ui_mode=ui_mode)


@router.get("/services", response_model=list[ServiceRead])
def list_services(
    customer: CurrentCustomer, session: ReadOnlySession,
    q: Annotated[str | None, Query(max_length=100, description="search words (names, keywords)")] = None,
    locale: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    channel: Channel = "app",
) -> list[ServiceRead]:
    """The services the caller sees now (switched on, in their window, for the caller's identity and
    audience), by business line and rank; with `q`, only those matching every word, best match first."""
    viewer = _viewer(session, customer, channel)
    if q is not None and q.strip():
        return service.search(session, viewer, q, locale)
    return service.visible_services(session, viewer)


@router.get("/services/{key}", response_model=ServiceRead)
def get_service(key: KeyPath, customer: CurrentCustomer, session: ReadOnlySession,
                channel: Channel = "app") -> ServiceRead:
    """One service the caller sees (404 otherwise)."""
    return service.find_visible(session, _viewer(session, customer, channel), key)


@router.post("/services/{key}/uses", status_code=204)
def record_use(key: KeyPath, customer: CurrentCustomer, session: WriteSession,
               channel: Channel = "app") -> Response:
    """Count that the caller opened a service (for its own "frequently used" row); 404 if not visible."""
    service.record_use(session, _viewer(session, customer, channel), key)
    return Response(status_code=204)


@router.get("/frequent", response_model=list[ServiceRead])
def frequent(customer: CurrentCustomer, session: ReadOnlySession,
             limit: Annotated[int, Query(ge=1, le=12)] = 4) -> list[ServiceRead]:
    """The caller's own most used services in its current identity, still visible to it."""
    return service.frequently_used(session, _viewer(session, customer, "app"), limit=limit)


@router.get("/tabs", response_model=list[TabRead])
def list_tabs(customer: CurrentCustomer, session: ReadOnlySession) -> list[TabRead]:
    """The bottom tabs chosen for the caller's identity and audience."""
    return service.tabs_for(session, _viewer(session, customer, "app"))
