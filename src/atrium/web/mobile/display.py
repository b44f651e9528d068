"""The display mode of each page request: "standard" or "elder" (atrium.identity.profile.domain).

Which mode: the signed-in customer's stored choice; else this browser's `atrium_ui_mode` cookie (the
switch on the sign-in page, or the choice of whoever last used the app here); else standard. `resolve`
is a dependency of every page route (`mobile.install` adds it to the page router) and caches the mode on
`request.state.ui_mode`, where pages and templates read it; rendering resolves it too (once), for pages
served outside the page router (the OpenID provider's consent page).

The cookie follows the stored choice: when a signed-in customer's stored mode differs from the cookie,
the page response sets the cookie (`sync_cookie`, called by `templating.finish`), so the sign-in page
keeps the mode its person uses after they sign out. Choosing a mode is remembered in both places.
"""

from __future__ import annotations

from fastapi import Request, Response

from atrium.config import get_settings
from atrium.identity import service as identity
from atrium.identity.principal import Principal
from atrium.identity.profile.domain import DEFAULT_UI_MODE, UI_MODES, effective_ui_mode
from atrium.kit.errors import Unauthenticated
from atrium.web import deps

MODE_COOKIE = "atrium_ui_mode"
ELDER = "elder"
STANDARD = DEFAULT_UI_MODE
COOKIE_MAX_AGE_S = 2 * 365 * 24 * 3600  # a choice about eyesight does not expire with a session


def cookie_mode(request: Request) -> str | None:
    value = request.cookies.get(MODE_COOKIE)
    return value if value in UI_MODES else None


def signed_in_customer(request: Request) -> Principal | None:
    """The customer this request's session belongs to, or None (signed out, ended, or staff). Resolved
    the way `CurrentCustomer` does it and cached on the request, so a page pays for it once."""
    if not deps.bearer_or_cookie(request):
        return None
    try:
        principal = deps._principal(request)  # noqa: SLF001 - the one principal resolver, cached per request
    except Unauthenticated:
        return None
    return principal if principal.kind == "customer" else None


def resolve(request: Request) -> str:
    """The request's display mode, worked out once and kept on `request.state.ui_mode`."""
    cached = getattr(request.state, "ui_mode", None)
    if cached in UI_MODES:
        return str(cached)
    browser = cookie_mode(request)
    stored: str | None = None
    customer = signed_in_customer(request)
    if customer is not None:
        stored = deps.with_page_session(request, lambda s: identity.ui_mode_of(s, customer.id))
    mode = effective_ui_mode(stored, browser)
    request.state.ui_mode = mode
    if stored is not None and stored != browser:
        request.state.ui_mode_cookie = stored
    return mode


def mode_of(request: Request) -> str:
    """The mode `resolve` found for this request (standard if it has not run)."""
    mode = getattr(request.state, "ui_mode", None)
    return str(mode) if mode in UI_MODES else STANDARD


def is_elder(request: Request) -> bool:
    return resolve(request) == ELDER


def remember(response: Response, mode: str) -> None:
    """Keep `mode` in this browser for the pages before sign-in."""
    response.set_cookie(
        MODE_COOKIE,
        mode,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        path="/",
        secure=get_settings().security.cookie_secure,
    )


def sync_cookie(request: Request, response: Response) -> None:
    """Set the cookie to the signed-in customer's stored mode when the browser holds another."""
    mode = getattr(request.state, "ui_mode_cookie", None)
    if mode not in UI_MODES:
        return
    if any(h.startswith(MODE_COOKIE + "=") for h in response.headers.getlist("set-cookie")):
        return  # the response chose the mode itself (the mode switch)
    remember(response, str(mode))
