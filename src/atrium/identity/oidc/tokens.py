"""The token endpoint's use cases: exchange a code (with its PKCE verifier), refresh with rotation.

Access tokens are JWTs (RFC 9068, `typ: at+jwt`) for the Atrium API, valid `ACCESS_TTL`; they name the
customer (`sub`), the browser session (`sid`), the grant (`gid`), the level of assurance (`acr`), the
methods (`amr`), the scope and the client. ID tokens (`typ: JWT`) are for the client (`aud` = client_id).
Refresh tokens are opaque random strings stored as hashes.

Rotation with reuse detection (OAuth 2.0 Security BCP §4.14.2): each refresh returns a new refresh token
and marks the presented one rotated. Presenting a rotated one again means it was copied: the whole grant
(every refresh token of the chain and, through `gid`, every access token) is revoked. A code presented a
second time likewise revokes what the first exchange issued (RFC 6749 §4.1.2).

A refusal may itself write (a revoked grant, a burnt code): `token_request` raises only after such writes
are flushed, and callers commit them even when the request is refused (see `endpoints.token`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.identity.oidc import clients, keys
from atrium.identity.oidc.authorize import code_digest
from atrium.identity.oidc.errors import InvalidGrant, InvalidRequest, InvalidScope, UnsupportedGrantType
from atrium.identity.oidc.models import OidcAuthorizationCode, OidcGrant, OidcRefreshToken
from atrium.identity.oidc.schemas import ClientRead
from atrium.kit import clock
from atrium.kit.ids import new_id

ACCESS_AUDIENCE = "urn:atrium:api"
ACCESS_TTL = timedelta(minutes=10)
ID_TOKEN_TTL = timedelta(minutes=10)
REFRESH_TTL = timedelta(hours=12)  # and never beyond the browser session it is tied to
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def _ts(when: Any) -> int:
    return int(when.timestamp())


def _pkce_matches(verifier: str, challenge: str) -> bool:
    if not PKCE_VERIFIER.match(verifier):
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


def revoke_grant(session: Session, grant_id: str, reason: str) -> None:
    session.execute(
        update(OidcGrant)
        .where(OidcGrant.id == grant_id, OidcGrant.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    session.flush()


def revoke_session_grants(session: Session, sid: str, reason: str = "session-ended") -> int:
    result = session.execute(
        update(OidcGrant)
        .where(OidcGrant.sid == sid, OidcGrant.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def profile_claims(session: Session, customer_id: str, scope: set[str]) -> dict[str, Any]:
    if "profile" not in scope:
        return {}
    customer = identity.get_customer(session, customer_id)
    if customer is None:
        return {}
    return {"name": customer.display_name, "preferred_username": customer.username, "locale": customer.locale}


def _issue(
    session: Session,
    grant: OidcGrant,
    client: ClientRead,
    *,
    issuer: str,
    scope: set[str],
    nonce: str | None,
    refresh: bool,
) -> dict[str, Any]:
    now = clock.now()
    amr = [m for m in grant.amr.split(",") if m]
    common = {
        "iss": issuer,
        "sub": grant.customer_id,
        "iat": _ts(now),
        "sid": grant.sid,
        "acr": grant.acr,
        "amr": amr,
        "auth_time": _ts(grant.auth_time),
    }
    scope_text = " ".join(sorted(scope))
    access = keys.sign(
        session,
        {
            **common,
            "aud": ACCESS_AUDIENCE,
            "exp": _ts(now + ACCESS_TTL),
            "jti": new_id("at"),
            "client_id": client.client_id,
            "scope": scope_text,
            "gid": grant.id,
        },
        typ="at+jwt",
    )
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TTL.total_seconds()),
        "scope": scope_text,
    }
    if "openid" in scope:
        id_claims = {
            **common,
            "aud": client.client_id,
            "azp": client.client_id,
            "exp": _ts(now + ID_TOKEN_TTL),
            **profile_claims(session, grant.customer_id, scope),
        }
        if nonce is not None:
            id_claims["nonce"] = nonce
        body["id_token"] = keys.sign(session, id_claims)
    if refresh:
        token = secrets.token_urlsafe(32)
        session.add(
            OidcRefreshToken(
                token_hash=sessions.digest(token),
                grant_id=grant.id,
                created_at=now,
                expires_at=now + REFRESH_TTL,
            )
        )
        session.flush()
        body["refresh_token"] = token
    return body


def _exchange_code(
    session: Session, client: ClientRead, form: Mapping[str, str], issuer: str
) -> dict[str, Any]:
    code = form.get("code", "")
    digest = code_digest(code)
    row = session.get(OidcAuthorizationCode, digest) if code else None
    if row is None or row.client_id != client.client_id:
        raise InvalidGrant("unknown authorization code")
    now = clock.now()
    claimed = session.execute(
        update(OidcAuthorizationCode)
        .where(OidcAuthorizationCode.code_hash == digest, OidcAuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not claimed:
        session.refresh(row)
        if row.grant_id:
            revoke_grant(session, row.grant_id, "code-reuse")
        raise InvalidGrant("the authorization code was already used")
    if row.expires_at <= now:
        raise InvalidGrant("the authorization code has expired")
    if form.get("redirect_uri") != row.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request")
    if not _pkce_matches(form.get("code_verifier", ""), row.code_challenge):
        raise InvalidGrant("the PKCE code_verifier does not match")
    if not sessions.is_active(session, row.sid):
        raise InvalidGrant("the sign-in session has ended")
    grant = OidcGrant(
        id=new_id("grt"),
        client_id=client.client_id,
        customer_id=row.customer_id,
        sid=row.sid,
        scope=row.scope,
        acr=row.acr,
        amr=row.amr,
        auth_time=row.auth_time,
        created_at=now,
    )
    session.add(grant)
    session.flush()
    row.grant_id = grant.id
    scope = set(row.scope.split())
    return _issue(
        session, grant, client, issuer=issuer, scope=scope, nonce=row.nonce, refresh="offline_access" in scope
    )


def _refresh(session: Session, client: ClientRead, form: Mapping[str, str], issuer: str) -> dict[str, Any]:
    token = form.get("refresh_token", "")
    digest = sessions.digest(token)
    row = session.get(OidcRefreshToken, digest) if token else None
    grant = session.get(OidcGrant, row.grant_id) if row is not None else None
    if row is None or grant is None or grant.client_id != client.client_id:
        raise InvalidGrant("unknown refresh token")
    now = clock.now()
    rotated = session.execute(
        update(OidcRefreshToken)
        .where(OidcRefreshToken.token_hash == digest, OidcRefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not rotated:
        revoke_grant(session, grant.id, "refresh-reuse")
        raise InvalidGrant("the refresh token was already used; every token of this sign-in is revoked")
    if grant.revoked_at is not None:
        raise InvalidGrant("the grant has been revoked")
    if row.expires_at <= now:
        raise InvalidGrant("the refresh token has expired")
    if not sessions.is_active(session, grant.sid):
        revoke_grant(session, grant.id, "session-ended")
        raise InvalidGrant("the sign-in session has ended")
    granted = set(grant.scope.split())
    asked = set(form["scope"].split()) if form.get("scope") else granted
    if not asked <= granted:
        raise InvalidScope("a refresh cannot widen the scope")
    return _issue(session, grant, client, issuer=issuer, scope=asked, nonce=None, refresh=True)


def token_request(
    session: Session, *, form: Mapping[str, str], authorization: str | None, issuer: str
) -> dict[str, Any]:
    """One token request (RFC 6749 §3.2): authenticate the client, then run its grant type. Returns the
    JSON body of the success response; raises an OAuthError (after flushing any revocation it caused)."""
    client = clients.authenticate_client(session, authorization=authorization, form=dict(form))
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        return _exchange_code(session, client, form, issuer)
    if grant_type == "refresh_token":
        return _refresh(session, client, form, issuer)
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    raise UnsupportedGrantType(f"unsupported grant_type {grant_type[:40]!r}")
