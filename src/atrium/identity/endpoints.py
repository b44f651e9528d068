from __future__ import annotations

from fastapi import APIRouter, Response

from atrium.config import get_settings
from atrium.identity import service
from atrium.identity.errors import SessionExpired
from atrium.identity.schemas import CustomerRead, LoginRequest, SessionRead, StaffRead
from atrium.web.deps import (
    SESSION_COOKIE,
    CurrentPrincipal,
    ReadOnlySession,
    WriteSession,
    set_session_cookie,
)

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=SessionRead)
def login(body: LoginRequest, session: WriteSession, response: Response) -> SessionRead:
    """Password login (interim, until the identity issue's OIDC provider). Sets a secure cookie too."""
    ttl = get_settings().security.session_ttl_s
    token, principal = service.login(
        session, username=body.username, password=body.password, kind=body.kind, ttl_s=ttl
    )
    set_session_cookie(response, token)
    return SessionRead(token=token, expires_in=ttl, subject_kind=principal.kind, subject_id=principal.id)  # type: ignore[arg-type]


@router.post("/logout", status_code=204)
def logout(principal: CurrentPrincipal, session: WriteSession, response: Response) -> None:
    if principal.token_hash:
        service.logout(session, principal.token_hash)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=CustomerRead | StaffRead)
def me(principal: CurrentPrincipal, session: ReadOnlySession) -> CustomerRead | StaffRead:
    if principal.kind == "customer":
        c = service.get_customer(session, principal.id)
        if c is None:
            raise SessionExpired("the customer no longer exists")
        return CustomerRead.model_validate(c)
    s = service.get_staff(session, principal.id)
    if s is None:
        raise SessionExpired("the staff user no longer exists")
    return StaffRead.model_validate(s)
