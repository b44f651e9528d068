"""The customer's signed-in sessions as they see them, and signing them out remotely.

Built on `atrium.identity.sessions` (list_sessions, revoke, revoke_all). A session id that is not one of
the customer's live sessions — unknown, ended, or another customer's — is `SessionNotFound` (404), so
session ids cannot be probed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.identity import audit, sessions
from atrium.identity.protection import geo, useragent
from atrium.identity.protection.errors import SessionNotFound
from atrium.identity.protection.schemas import RevokeAllResult, SessionInfo, SessionList
from atrium.logs import get_logger

log = get_logger("atrium.identity.protection")


def list_signed_in(session: Session, customer_id: str, *, current_sid: str | None = None) -> SessionList:
    """Live sessions, the current one first, then most recently used first."""
    items = [
        SessionInfo(
            sid=row.sid,
            client=row.client,
            device=useragent.summarise(row.user_agent, client=row.client),
            ip=row.ip,
            place=geo.locate(row.ip),
            loa=row.loa,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            current=row.sid == current_sid,
        )
        for row in sessions.list_sessions(session, customer_id)
    ]
    items.sort(key=lambda s: not s.current)  # stable: the rest keep their most-recent-first order
    return SessionList(items=items)


def sign_out(session: Session, customer_id: str, sid: str) -> None:
    """End one of the customer's own sessions (the current one too: that is signing out here)."""
    if not sessions.revoke(session, customer_id, sid):
        raise SessionNotFound("no such session")
    audit.record(session, customer_id, "session.ended", sid)
    log.info("session_revoked", customer_id=customer_id)


def sign_out_everywhere(
    session: Session, customer_id: str, *, current_sid: str | None, keep_current: bool = True
) -> RevokeAllResult:
    """End every session of the customer; `keep_current` spares the one this request is made with."""
    spare = current_sid if keep_current else None
    count = sessions.revoke_all(session, customer_id, except_sid=spare)
    audit.record(session, customer_id, "sessions.ended", f"{count} sessions", sid=current_sid)
    log.info("sessions_revoked", customer_id=customer_id, count=count, kept_current=spare is not None)
    return RevokeAllResult(revoked=count, current_revoked=current_sid is not None and spare is None)
