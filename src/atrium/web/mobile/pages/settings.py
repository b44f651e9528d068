"""Settings: the language switch and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium import __version__
from atrium.config import get_settings
from atrium.identity import service as identity
from atrium.kit.errors import ValidationFailed
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.i18n import LOCALE_COOKIE, LOCALES
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, safe_next, translator

router = APIRouter(route_class=PageRoute)
_YEAR_S = 365 * 24 * 3600


@router.get("/settings")
def settings_page(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    profile = identity.get_customer(session, customer.id)
    return render(
        request,
        "pages/settings.html",
        title=translator(request)("settings.title"),
        tab="me",
        profile=profile,
        version=__version__,
    )


@router.post("/locale", dependencies=[Depends(csrf.verify)])
def set_locale(
    request: Request,
    locale: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """The language switch (public: the login page has it too). Remembered in a cookie for a year."""
    if locale not in LOCALES:
        raise ValidationFailed("unknown language")
    response = redirect(request, safe_next(next))
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=_YEAR_S,
        samesite="lax",
        path="/",
        secure=get_settings().security.cookie_secure,
    )
    return response
