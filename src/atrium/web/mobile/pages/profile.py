"""My profile: the customer's KYC details, masked, each with a "show" toggle (one field at a time, by POST so
a clear value is never in a URL; htmx swaps the row, without JavaScript the page comes back with it shown),
and the identities this login can act as, with a switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.db.runtime import get_db
from atrium.identity import identities, kyc
from atrium.identity.principal import Principal
from atrium.kit.errors import NotFound
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import is_htmx, redirect, render, translator

router = APIRouter(route_class=PageRoute)
FieldName = Annotated[str, Path(max_length=20)]
IDENTITY_ICONS = {"person": "user", "company_operator": "bank", "merchant": "store"}


def _field(name: str) -> str:
    if name not in kyc.FIELDS:
        raise NotFound("no such detail")
    return name


def _page(
    request: Request, session: Session, customer: Principal, *, revealed: dict[str, str] | None = None,
    switched: bool = False,
) -> Response:
    current = identities.current_identity(session, customer)
    listed = identities.list_identities(session, customer.id, current_id=current.id if current else None)
    return render(
        request, "pages/profile.html", title=translator(request)("profile.title"), tab="me", back="/settings",
        profile=kyc.profile(session, customer.id), fields=kyc.FIELDS, revealed=revealed or {},
        identities=listed,
        identity_icons=IDENTITY_ICONS, current=current, switched=switched and current is not None,
    )


def _row(request: Request, name: str, value: str | None, *, shown: bool) -> Response:
    t = translator(request)
    label = t(f"profile.field.{name}")
    announce = t("profile.shown" if shown else "profile.hidden", field=label)
    return render(request, "pages/profile_field.html", name=name, value=value, shown=shown, announce=announce)


@router.get("/profile")
def profile_page(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession, switched: str | None = None
) -> Response:
    return _page(request, session, customer, switched=switched == "1")


@router.post("/profile/reveal/{name}", dependencies=[Depends(csrf.verify)])
def reveal(
    request: Request, name: FieldName, customer: CurrentCustomer, session: ReadOnlySession
) -> Response:
    """Show one detail in clear to the customer it belongs to."""
    field = _field(name)
    value = kyc.reveal(session, customer.id, field)
    if is_htmx(request):
        return _row(request, field, value, shown=True)
    return _page(request, session, customer, revealed={field: value})


@router.get("/profile/fields/{name}")
def masked_field(
    request: Request, name: FieldName, customer: CurrentCustomer, session: ReadOnlySession
) -> Response:
    """Hide a shown detail again (htmx swaps the row; a plain request gets the whole page)."""
    field = _field(name)
    if not is_htmx(request):
        return redirect(request, "/profile")
    return _row(request, field, getattr(kyc.profile(session, customer.id), field), shown=False)


@router.post("/profile/identities/{identity_id}/switch", dependencies=[Depends(csrf.verify)])
def switch_identity(
    request: Request, identity_id: Annotated[str, Path(max_length=40)], customer: CurrentCustomer
) -> Response:
    """Act as another of the customer's identities in this session (another customer's: not found)."""
    get_db().run(lambda s: identities.switch(s, customer, identity_id))
    return redirect(request, "/profile?switched=1")

