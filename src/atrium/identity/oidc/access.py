"""Using and ending what the token endpoint issued: access-token authentication (for the API and the
userinfo endpoint), RFC 7009 revocation and RP-initiated logout.

An access token is accepted only while all of these hold: one of our published keys signed it, its type
is `at+jwt`, its audience is the Atrium API, it has not expired, its grant has not been revoked and its
browser session (`sid`) is still active. The last two are database checks, so "sign out everywhere" or a
detected refresh-token reuse stops a token at once rather than when it expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.orm import Session

from atrium.identity import sessions
from atrium.identity.oidc import clients, keys
from atrium.identity.oidc.errors import InvalidToken
from atrium.identity.oidc.models import OidcGrant, OidcRefreshToken
from atrium.identity.oidc.schemas import ClientRead
from atrium.identity.oidc.tokens import ACCESS_AUDIENCE, profile_claims, revoke_grant, revoke_session_grants
from atrium.identity.principal import Principal
from atrium.kit import clock


def _now() -> int:
    return int(clock.now().timestamp())


def _claims(
    session: Session,
    token: str,
    *,
    typ: str,
    issuer: str | None,
    audience: str | None,
    check_expiry: bool = True,
) -> dict[str, Any] | None:
    decoded = keys.verify(session, token)
    if decoded is None or decoded.header.get("typ") != typ:
        return None
    options: dict[str, Any] = {"sub": {"essential": True}, "sid": {"essential": True}}
    if audience is not None:
        options["aud"] = {"essential": True, "value": audience}
    if issuer is not None:
        options["iss"] = {"essential": True, "value": issuer}
    if check_expiry:
        options["exp"] = {"essential": True}
    claims = dict(decoded.claims)
    if not check_expiry:
        claims.pop("exp", None)
    try:
        JWTClaimsRegistry(now=_now, **options).validate(claims)  # type: ignore[arg-type]
    except JoseError:
        return None
    return dict(decoded.claims)


def access_claims(session: Session, token: str, *, issuer: str | None = None) -> dict[str, Any] | None:
    """The claims of a live access token, or None (bad signature, expired, revoked, session ended)."""
    claims = _claims(session, token, typ="at+jwt", issuer=issuer, audience=ACCESS_AUDIENCE)
    if claims is None or not isinstance(claims.get("gid"), str):
        return None
    grant = session.get(OidcGrant, claims["gid"])
    if grant is None or grant.revoked_at is not None or grant.sid != claims["sid"]:
        return None
    if not sessions.is_active(session, claims["sid"]):
        return None
    return claims


def authenticate_access_token(session: Session, token: str, *, issuer: str | None = None) -> Principal | None:
    """The customer an OAuth access token speaks for (with its session's sid and level, its scopes and
    client), or None when it is not a live access token of ours."""
    claims = access_claims(session, token, issuer=issuer)
    if claims is None:
        return None
    level = str(claims.get("acr", "")).removeprefix("urn:atrium:loa:")
    loa = int(level) if level.isdigit() else 1
    auth_time = claims.get("auth_time")
    return Principal(
        kind="customer",
        id=claims["sub"],
        sid=claims["sid"],
        loa=loa,
        amr=tuple(claims.get("amr") or ()),
        auth_time=datetime.fromtimestamp(auth_time, UTC) if isinstance(auth_time, int) else None,
        scopes=frozenset(str(claims.get("scope", "")).split()),
        client_id=claims.get("client_id"),
    )


def userinfo(session: Session, token: str) -> dict[str, Any]:
    """OIDC UserInfo (Core §5.3): needs a live access token with the openid scope."""
    claims = access_claims(session, token)
    scope = set(str((claims or {}).get("scope", "")).split())
    if claims is None or "openid" not in scope:
        raise InvalidToken("the access token is invalid, expired or revoked")
    return {"sub": claims["sub"], **profile_claims(session, claims["sub"], scope)}


def revoke_token(session: Session, client: ClientRead, token: str, hint: str | None = None) -> None:
    """RFC 7009: revoke a refresh or an access token of this client — and with it the whole grant it
    belongs to. Unknown tokens, and tokens of other clients, are ignored (the answer is 200 either way,
    so the endpoint tells nobody whether a token exists)."""
    order = ("access_token", "refresh_token") if hint == "access_token" else ("refresh_token", "access_token")
    for kind in order:
        grant_id = (
            _refresh_grant(session, token) if kind == "refresh_token" else _access_grant(session, token)
        )
        if grant_id is None:
            continue
        grant = session.get(OidcGrant, grant_id)
        if grant is not None and grant.client_id == client.client_id:
            revoke_grant(session, grant.id, "revoked-by-client")
        return


def _refresh_grant(session: Session, token: str) -> str | None:
    row = session.get(OidcRefreshToken, sessions.digest(token)) if token else None
    return row.grant_id if row is not None else None


def _access_grant(session: Session, token: str) -> str | None:
    # An expired access token can still be revoked (its grant with it), so the expiry is not checked here.
    claims = _claims(session, token, typ="at+jwt", issuer=None, audience=ACCESS_AUDIENCE, check_expiry=False)
    gid = (claims or {}).get("gid")
    return gid if isinstance(gid, str) else None


@dataclass(frozen=True)
class LogoutRequest:
    """An RP-initiated logout request, checked (OpenID Connect RP-Initiated Logout 1.0 §2-3)."""

    client: ClientRead | None
    customer_id: str | None  # from a valid id_token_hint
    sid: str | None
    redirect_uri: str | None  # a registered post_logout_redirect_uri, or None
    state: str | None


def check_logout(session: Session, params: Mapping[str, str]) -> LogoutRequest:
    """Read the id_token_hint (ours, for this client; an expired one is fine: it only names the session)
    and accept post_logout_redirect_uri only when it is registered for that client."""
    hint = params.get("id_token_hint") or ""
    claims = (
        _claims(session, hint, typ="JWT", issuer=None, audience=None, check_expiry=False) if hint else None
    )
    client_id = params.get("client_id") or (
        str(claims["aud"]) if claims and isinstance(claims.get("aud"), str) else None
    )
    client = clients.get_client(session, client_id)
    if claims is not None and (client is None or claims.get("aud") != client.client_id):
        claims = None  # a hint issued to another client does not speak for this one
    wanted = params.get("post_logout_redirect_uri")
    redirect = wanted if client is not None and wanted in client.post_logout_redirect_uris else None
    return LogoutRequest(
        client=client,
        customer_id=claims["sub"] if claims else None,
        sid=claims["sid"] if claims else None,
        redirect_uri=redirect,
        state=params.get("state"),
    )


def end_session(session: Session, *, customer_id: str, sid: str) -> None:
    """End the browser session and everything tied to it: every grant (refresh and access tokens)."""
    sessions.revoke(session, customer_id, sid)
    revoke_session_grants(session, sid, "logout")
