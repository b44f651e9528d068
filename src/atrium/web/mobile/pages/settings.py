"""Settings: the language and display-mode switches, a person to call, and signing out.

Both switches are public (the sign-in page has them too) and remembered in this browser; the display mode
chosen by a signed-in customer is also stored on them (and recorded), so every device they sign in on
follows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium import __version__
from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.identity import service as identity
from atrium.identity.profile.domain import UI_MODES
from atrium.kit.errors import ValidationFailed
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import csrf, display
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
        UI_MODES=UI_MODES,
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


@router.post("/display-mode", dependencies=[Depends(csrf.verify)])
def set_display_mode(
    request: Request,
    ui_mode: Annotated[str, Form(max_length=16)],
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Standard or elder mode. Kept in this browser's cookie; a signed-in customer's choice is stored on
    them too (recorded with this session)."""
    if ui_mode not in UI_MODES:
        raise ValidationFailed("unknown display mode")
    customer = display.signed_in_customer(request)
    if customer is not None:
        get_db().run(
            lambda s: identity.set_ui_mode(s, customer.id, ui_mode, channel="mobile", sid=customer.sid)
        )
    request.state.ui_mode_cookie = None  # this response sets the cookie itself
    response = redirect(request, safe_next(next))
    display.remember(response, ui_mode)
    return response
