"""/auth/sessions and /auth/login-history: the customer's signed-in sessions (list, sign one out, sign out
everywhere) and their sign-in history. Every route needs a customer session; answers are `no-store`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from atrium.identity.protection import history, signins
from atrium.identity.protection.schemas import (
    LoginHistoryPage,
    RevokeAllRequest,
    RevokeAllResult,
    SessionList,
)
from atrium.web.deps import CurrentCustomer, ReadOnlySession, WriteSession

router = APIRouter(prefix="/auth", tags=["auth"])
SidPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


@router.get("/sessions", response_model=SessionList)
def list_sessions(customer: CurrentCustomer, session: ReadOnlySession) -> SessionList:
    """The caller's live sessions, the current one first (`current: true`), then most recently used."""
    return signins.list_signed_in(session, customer.id, current_sid=customer.sid)


@router.delete("/sessions/{sid}", status_code=204, responses={404: {"description": "no such session"}})
def revoke_session(sid: SidPath, customer: CurrentCustomer, session: WriteSession) -> Response:
    """Sign one of the caller's sessions out (the current one too). Another customer's session id, or one
    that has ended, is a 404."""
    signins.sign_out(session, customer.id, sid)
    return Response(status_code=204)


@router.post("/sessions/revoke-all", response_model=RevokeAllResult)
def revoke_all_sessions(
    customer: CurrentCustomer, session: WriteSession, body: RevokeAllRequest | None = None
) -> RevokeAllResult:
    """Sign out everywhere. `keep_current` (default true) keeps the session making this request."""
    keep = body.keep_current if body is not None else True
    return signins.sign_out_everywhere(session, customer.id, current_sid=customer.sid, keep_current=keep)


@router.get("/login-history", response_model=LoginHistoryPage)
def login_history(
    customer: CurrentCustomer,
    session: ReadOnlySession,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=history.MAX_PAGE)] = 20,
) -> LoginHistoryPage:
    """The caller's sign-in attempts, newest first, with device, address and a coarse place."""
    return history.list_history(session, customer.id, cursor=cursor, limit=limit)
