"""The relying-party side, for the bank's own server-side web clients (Atrium Life).

Sign-in: `begin_login` makes state, nonce and a PKCE verifier (kept server side; the state also goes to a
browser cookie, which binds the callback to the browser that started it) and the authorization URL.
`complete_login` exchanges the code through `tokens.token_request` — the very function behind the token
endpoint — then validates the ID token with joserfc against the provider's published JWKS (signature,
`iss`, `aud`, `exp`, `iat`, `nonce`) and starts a server-side session (cookie = random id; tokens sealed).

Every page calls `current`: it refreshes an expiring access token (with rotation) and checks that the
access token is still live, so when the customer's browser session ends ("sign out everywhere" in the main
app, or the provider's logout), the Life session ends at the next page too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity import pii, sessions
from atrium.identity.oidc import access, clients, keys, tokens
from atrium.identity.oidc.errors import OAuthError, RelyingPartyFailed
from atrium.identity.oidc.models import RpLoginState, RpSession
from atrium.identity.oidc.schemas import RelyingPartyView
from atrium.kit import clock

LOGIN_TTL = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(seconds=30)  # refresh a little before expiry, not after a refused call
SCOPE = "openid profile offline_access"


def _seal(value: str, what: str) -> str:
    return pii.seal(value, context=f"oidc.rp.{what}")


def _unseal(value: str, what: str) -> str:
    return pii.unseal(value, context=f"oidc.rp.{what}")


def ensure_client(session: Session, *, client_id: str, base_url: str) -> None:
    """Outside production, register the bank's default clients for the address the request reached when
    this database has none yet (a fresh development or test database). Production registers them at
    deployment with the configured public address (`ensure_default_clients`): a Host header must never
    decide where codes may be sent."""
    if clients.get_client(session, client_id) is not None:
        return
    if get_settings().env == "production":
        raise RelyingPartyFailed(f"the client {client_id!r} is not registered")
    clients.ensure_default_clients(session, base_url)


def begin_login(
    session: Session, *, client_id: str, redirect_uri: str, next_path: str = "/"
) -> tuple[str, str]:
    """Returns (state, the authorization URL to send the browser to)."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    now = clock.now()
    session.add(
        RpLoginState(
            state_hash=sessions.digest(state),
            client_id=client_id,
            nonce=nonce,
            verifier_sealed=_seal(verifier, "verifier"),
            next_path=next_path[:500],
            created_at=now,
            expires_at=now + LOGIN_TTL,
        )
    )
    session.flush()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return state, f"/oauth2/authorize?{query}"


def validate_id_token(
    session: Session, id_token: str, *, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims after OIDC Core §3.1.3.7 validation against the provider's JWKS."""
    try:
        decoded = jwt.decode(id_token, keys.key_set(session), algorithms=[keys.ALG])
        JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            sid={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise RelyingPartyFailed(f"the ID token is not valid: {type(exc).__name__}") from exc
    if decoded.header.get("typ") != "JWT" or decoded.claims.get("azp", client_id) != client_id:
        raise RelyingPartyFailed("the ID token is not for this client")
    return dict(decoded.claims)


def complete_login(
    session: Session,
    *,
    client_id: str,
    client_secret: str,
    issuer: str,
    redirect_uri: str,
    state: str,
    cookie_state: str | None,
    code: str,
) -> tuple[str, str]:
    """Finish a sign-in at the callback. Returns (the new session's cookie value, the page to go to)."""
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state):
        raise RelyingPartyFailed("the sign-in was not started in this browser")
    pending = session.get(RpLoginState, sessions.digest(state))
    if pending is None or pending.client_id != client_id:
        raise RelyingPartyFailed("unknown or already finished sign-in")
    session.delete(pending)  # single use, whatever happens next
    session.flush()
    if pending.expires_at <= clock.now():
        raise RelyingPartyFailed("the sign-in took too long")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": _unseal(pending.verifier_sealed, "verifier"),
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        body = tokens.token_request(session, form=form, authorization=None, issuer=issuer)
    except OAuthError as exc:
        raise RelyingPartyFailed(f"the code exchange was refused: {exc.error}") from exc
    claims = validate_id_token(
        session, body.get("id_token", ""), issuer=issuer, client_id=client_id, nonce=pending.nonce
    )
    principal = access.authenticate_access_token(session, body["access_token"], issuer=issuer)
    if principal is None or principal.id != claims["sub"] or principal.sid != claims["sid"]:
        raise RelyingPartyFailed("the access token does not belong to the ID token's subject")
    cookie = secrets.token_urlsafe(32)
    session.add(
        RpSession(
            id_hash=sessions.digest(cookie),
            client_id=client_id,
            customer_id=claims["sub"],
            sid=claims["sid"],
            name=str(claims.get("name", ""))[:120],
            access_sealed=_seal(body["access_token"], "access"),
            access_expires_at=_expiry(body),
            refresh_sealed=_seal_optional(body.get("refresh_token"), "refresh"),
            id_token_sealed=_seal(body["id_token"], "id"),
            created_at=clock.now(),
        )
    )
    session.flush()
    return cookie, pending.next_path


def _expiry(body: dict[str, Any]) -> datetime:
    return clock.now() + timedelta(seconds=int(body.get("expires_in", 0)))


def _seal_optional(value: str | None, what: str) -> str | None:
    return _seal(value, what) if value else None


def _live(session: Session, cookie: str | None) -> RpSession | None:
    if not cookie or len(cookie) > 100:
        return None
    row = session.get(RpSession, sessions.digest(cookie))
    return row if row is not None and row.ended_at is None else None


def _refresh(session: Session, row: RpSession, *, client_secret: str, issuer: str) -> bool:
    if row.refresh_sealed is None:
        return False
    form = {
        "grant_type": "refresh_token",
        "refresh_token": _unseal(row.refresh_sealed, "refresh"),
        "client_id": row.client_id,
        "client_secret": client_secret,
    }
    try:
        body = tokens.token_request(session, form=form, authorization=None, issuer=issuer)
    except OAuthError:
        return False
    row.access_sealed = _seal(body["access_token"], "access")
    row.access_expires_at = _expiry(body)
    row.refresh_sealed = _seal_optional(body.get("refresh_token"), "refresh")
    session.flush()
    return True


def current(
    session: Session, cookie: str | None, *, client_secret: str, issuer: str
) -> RelyingPartyView | None:
    """The signed-in Life session behind `cookie`, refreshed if its access token is (nearly) expired, or
    None — and the Life session ended — when the customer's sign-in is over."""
    row = _live(session, cookie)
    if row is None:
        return None
    if row.access_expires_at <= clock.now() + REFRESH_MARGIN and not _refresh(
        session, row, client_secret=client_secret, issuer=issuer
    ):
        row.ended_at = clock.now()
        session.flush()
        return None
    principal = access.authenticate_access_token(session, _unseal(row.access_sealed, "access"), issuer=issuer)
    if principal is None or principal.id != row.customer_id:
        row.ended_at = clock.now()
        session.flush()
        return None
    return RelyingPartyView(customer_id=row.customer_id, sid=row.sid, name=row.name)


def end(session: Session, cookie: str | None) -> str | None:
    """End the Life session and revoke its tokens. Returns its ID token (the provider's logout hint)."""
    row = session.get(RpSession, sessions.digest(cookie)) if cookie and len(cookie) <= 100 else None
    if row is None:
        return None
    client = clients.get_client(session, row.client_id)
    if row.ended_at is None and client is not None and row.refresh_sealed is not None:
        access.revoke_token(session, client, _unseal(row.refresh_sealed, "refresh"), "refresh_token")
    row.ended_at = row.ended_at or clock.now()
    session.flush()
    return _unseal(row.id_token_sealed, "id")
