"""Signed-in sessions: open one at a level of assurance, raise it by a step-up, list and end them.

The level of assurance (`loa`) follows from the authentication methods used (`amr`, RFC 8176 names):
one factor is level 1; two independent factors — something known (pwd), something held (sms, otp, hwk: a
trusted device's key) — or a passkey with user verification (held + inherent/known at once) is level 2.
Level 3 is not a session level: it is a step-up grant bound to one action (`atrium.identity.stepup`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity.errors import SessionExpired
from atrium.identity.models import AuthSession, StaffUser
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.ids import new_id

KNOWLEDGE = frozenset({"pwd"})
POSSESSION = frozenset({"sms", "otp", "hwk"})
MULTI_FACTOR_ALONE = frozenset({"passkey"})
AMR_METHODS = KNOWLEDGE | POSSESSION | MULTI_FACTOR_ALONE
LAST_SEEN_GRANULARITY = timedelta(minutes=1)  # touch `last_seen_at` at most this often


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def level_of(amr: Iterable[str]) -> int:
    methods = set(amr)
    unknown = methods - AMR_METHODS
    if unknown:
        raise ValueError(f"unknown authentication methods {sorted(unknown)}")
    if methods & MULTI_FACTOR_ALONE:
        return 2
    if methods & KNOWLEDGE and methods & POSSESSION:
        return 2
    if len(methods & POSSESSION) >= 2 and "hwk" in methods:
        return 2  # an SMS code on a device already bound by an earlier two-factor sign-in
    return 1


def acr_of(loa: int) -> str:
    return f"urn:atrium:loa:{loa}"


def _principal(row: AuthSession, role: str | None = None) -> Principal:
    return Principal(
        kind=row.subject_kind,
        id=(row.customer_id if row.subject_kind == "customer" else row.staff_id) or "",
        role=role,
        token_hash=row.token_hash,
        sid=row.sid,
        loa=row.loa,
        amr=tuple(m for m in row.amr.split(",") if m),
        device_id=row.device_id,
        identity_id=row.identity_id,
        auth_time=row.auth_time,
    )


def open_session(
    session: Session,
    *,
    customer_id: str | None = None,
    staff_id: str | None = None,
    amr: list[str],
    device_id: str | None = None,
    ip: str = "",
    user_agent: str = "",
    client: str = "mobile",
    ttl_s: int | None = None,
    identity_id: str | None = None,
) -> tuple[str, Principal]:
    """Start a session for a customer (or a staff user). Returns the raw token — shown once, stored only as
    its digest — and the principal."""
    if (customer_id is None) == (staff_id is None):
        raise ValueError("give exactly one of customer_id and staff_id")
    ttl = ttl_s if ttl_s is not None else get_settings().security.session_ttl_s
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = AuthSession(
        token_hash=digest(token),
        sid=new_id("ses"),
        subject_kind="customer" if customer_id else "staff",
        customer_id=customer_id,
        staff_id=staff_id,
        loa=level_of(amr),
        amr=",".join(sorted(set(amr))),
        auth_time=now,
        device_id=device_id,
        identity_id=identity_id,
        client=client,
        ip=ip[:64],
        user_agent=user_agent[:200],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    session.add(row)
    session.flush()
    role = None
    if staff_id is not None:
        staff = session.get(StaffUser, staff_id)
        role = staff.role if staff else None
    return token, _principal(row, role)


def _live(row: AuthSession | None) -> bool:
    return row is not None and row.revoked_at is None and row.expires_at > clock.now()


def authenticate(session: Session, token: str) -> Principal:
    """The principal a bearer/cookie token stands for; SessionExpired if it is unknown, ended or expired."""
    row = session.get(AuthSession, digest(token))
    if row is None or not _live(row):
        raise SessionExpired("the session is unknown, expired or signed out")
    role = None
    if row.subject_kind == "staff":
        staff = session.get(StaffUser, row.staff_id)
        role = staff.role if staff else None
    return _principal(row, role)


def needs_touch(session: Session, token_hash: str) -> bool:
    row = session.get(AuthSession, token_hash)
    return row is not None and row.last_seen_at < clock.now() - LAST_SEEN_GRANULARITY


def touch(session: Session, token_hash: str) -> None:
    """Record activity (the session list's "last seen"), at most once a minute per session."""
    now = clock.now()
    session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == token_hash, AuthSession.last_seen_at < now - LAST_SEEN_GRANULARITY)
        .values(last_seen_at=now)
    )


def by_sid(session: Session, sid: str) -> AuthSession | None:
    return session.scalar(select(AuthSession).where(AuthSession.sid == sid))


def is_active(session: Session, sid: str) -> bool:
    return _live(by_sid(session, sid))


def principal_for_sid(session: Session, sid: str) -> Principal | None:
    row = by_sid(session, sid)
    return _principal(row) if _live(row) and row is not None else None


def raise_assurance(session: Session, sid: str, method: str) -> int:
    """A step-up completed with `method`: add it to the session's methods and recompute the level.
    Returns the new level. `auth_time` moves to now (the freshness that `max_age` checks measure)."""
    row = by_sid(session, sid)
    if row is None or not _live(row):
        raise SessionExpired("the session is unknown, expired or signed out")
    methods = {m for m in row.amr.split(",") if m} | {method}
    row.amr = ",".join(sorted(methods))
    row.loa = max(row.loa, level_of(methods))
    row.auth_time = clock.now()
    session.flush()
    return row.loa


def set_identity(session: Session, sid: str, identity_id: str | None) -> None:
    row = by_sid(session, sid)
    if row is None or not _live(row):
        raise SessionExpired("the session is unknown, expired or signed out")
    row.identity_id = identity_id
    session.flush()


def list_sessions(session: Session, customer_id: str) -> list[AuthSession]:
    """The customer's live sessions, most recently used first."""
    rows = session.scalars(
        select(AuthSession)
        .where(
            AuthSession.customer_id == customer_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > clock.now(),
        )
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.sid.desc())
    )
    return list(rows)


def revoke(session: Session, customer_id: str, sid: str) -> bool:
    """End one of the customer's sessions. False when there is no such live session *of this customer*."""
    result = session.execute(
        update(AuthSession)
        .where(
            AuthSession.sid == sid, AuthSession.customer_id == customer_id, AuthSession.revoked_at.is_(None)
        )
        .values(revoked_at=clock.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, customer_id: str, except_sid: str | None = None) -> int:
    """Sign out everywhere (every client: the app, Life, partner apps' tokens tied to these sessions)."""
    stmt = update(AuthSession).where(AuthSession.customer_id == customer_id, AuthSession.revoked_at.is_(None))
    if except_sid is not None:
        stmt = stmt.where(AuthSession.sid != except_sid)
    result = session.execute(stmt.values(revoked_at=clock.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]


def revoke_for_device(
    session: Session, customer_id: str, device_id: str, except_sid: str | None = None
) -> int:
    """End the customer's sessions opened on a device (the device was removed: what it signed in must go)."""
    stmt = update(AuthSession).where(
        AuthSession.customer_id == customer_id,
        AuthSession.device_id == device_id,
        AuthSession.revoked_at.is_(None),
    )
    if except_sid is not None:
        stmt = stmt.where(AuthSession.sid != except_sid)
    return int(session.execute(stmt.values(revoked_at=clock.now())).rowcount)  # type: ignore[attr-defined]


def end(session: Session, token_hash: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == token_hash, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
