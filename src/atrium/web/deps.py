"""Annotated dependency aliases, so an endpoint's signature reads as its policy.

- `WriteSession`: a unit of work committed when the endpoint returns (before the response is sent), rolled
  back on error. `ReadOnlySession`: cannot write.
- `CurrentCustomer` / `CurrentStaff`: the authenticated principal (bearer token or session cookie).
- `IdempotencyKey`: the required `Idempotency-Key` header of every money write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.db.idempotency import check_key
from atrium.db.runtime import get_db
from atrium.db.session import ReadSession
from atrium.identity import service as identity
from atrium.identity.service import Principal
from atrium.kit.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "atrium_session"


def _write_session() -> Iterator[Session]:
    with get_db().unit_of_work() as session:
        yield session


def _read_session() -> Iterator[ReadSession]:
    with get_db().read_session() as session:
        yield session


WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
ReadOnlySession = Annotated[ReadSession, Depends(_read_session, scope="function")]


def bearer_or_cookie(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def _principal(request: Request) -> Principal:
    token = bearer_or_cookie(request)
    if not token:
        raise Unauthenticated("sign in first")
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    with get_db().read_session() as session:
        principal = identity.authenticate(session, token)
    request.state.principal = principal
    return principal


def session_principal(request: Request) -> Principal | None:
    """Who the session cookie belongs to, or None when there is none or it has ended (a sign-in page
    treats a stale cookie as signed out rather than as an error)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with get_db().read_session() as session:
        try:
            return identity.authenticate(session, token)
        except Unauthenticated:
            return None


def set_session_cookie(response: Response, token: str) -> None:
    """The one way a sign-in (API or page) hands its session to a browser: HttpOnly, SameSite=Lax, Secure
    where configured, living as long as the session."""
    security = get_settings().security
    response.set_cookie(
        SESSION_COOKIE, token, max_age=security.session_ttl_s, httponly=True, samesite="lax",
        secure=security.cookie_secure, path="/",
    )


def end_cookie_session(request: Request, response: Response) -> None:
    """Sign out the browser's session (if any) and clear its cookie."""
    principal = session_principal(request)
    if principal is not None and principal.token_hash:
        token_hash = principal.token_hash
        get_db().run(lambda s: identity.logout(s, token_hash))
    response.delete_cookie(SESSION_COOKIE, path="/")


def _customer(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.kind != "customer":
        raise Forbidden("this is a customer route")
    return principal


def _staff(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.kind != "staff":
        raise Forbidden("this is a staff route")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentCustomer = Annotated[Principal, Depends(_customer)]
CurrentStaff = Annotated[Principal, Depends(_staff)]


def _idempotency_key(idempotency_key: Annotated[str, Header(alias="Idempotency-Key")]) -> str:
    return check_key(idempotency_key)


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]

# Every route that needs no authentication is listed here, by (method, path); a test walks the app's
# routes and fails on any route that neither depends on a principal nor appears in this list.
PUBLIC_ROUTES: set[tuple[str, str]] = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/login"),
    # The mobile web app's public pages (atrium.web.mobile.PUBLIC_PAGES; a test keeps the two in step).
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/locale"),
    ("GET", "/manifest.webmanifest"),
    ("GET", "/sw.js"),
    ("GET", "/offline"),
    # The staff console's public pages (atrium.web.staff.PUBLIC_PAGES; a test keeps the two in step).
    ("GET", "/staff/login"),
    ("POST", "/staff/login"),
    ("POST", "/staff/logout"),
}
