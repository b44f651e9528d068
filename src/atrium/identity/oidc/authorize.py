"""The authorization endpoint's rules (RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1.2).

Checking runs in the RFC's order: first the client and its redirect URI — when either is wrong nothing may
be sent to that URI (`BadRedirect`: the customer sees an error page) — then the rest of the request, whose
errors *are* sent back to the client's redirect URI. PKCE with S256 is required of every client.

A code is 256 random bits, stored as its SHA-256, valid for 60 seconds and exchangeable once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import Session

from atrium.identity import sessions
from atrium.identity.oidc import clients
from atrium.identity.oidc.errors import BadRedirect, InvalidRequest, InvalidScope, UnsupportedResponseType
from atrium.identity.oidc.models import OidcAuthorizationCode, OidcConsent
from atrium.identity.oidc.schemas import AuthorizationRequest, SignInFacts
from atrium.identity.principal import Principal
from atrium.kit import clock

CODE_TTL = timedelta(seconds=60)
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # BASE64URL(SHA-256(verifier)), no padding
MAX_PARAM = 500
PROMPTS = frozenset({"none", "consent", "select_account"})  # no "login": re-authentication is not offered
SCOPE_NAMES = ("openid", "profile", "offline_access")  # what the consent page can describe


def code_digest(code: str) -> str:
    return sessions.digest(code)


def check_request(session: Session, params: Mapping[str, str]) -> AuthorizationRequest:
    """A valid authorization request, or BadRedirect (client/redirect wrong: show an error page) or
    another OAuthError (send it to the redirect URI, with the state)."""
    client = clients.get_client(session, params.get("client_id"))
    if client is None:
        raise BadRedirect("unknown client_id")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise BadRedirect("redirect_uri is not registered for this client")
    too_long = [k for k, v in params.items() if len(v) > MAX_PARAM]
    if too_long:
        raise InvalidRequest(f"parameter too long: {too_long[0]}")
    if params.get("request") or params.get("request_uri"):
        raise InvalidRequest("request objects are not supported")
    if params.get("response_type") != "code":
        raise UnsupportedResponseType("only response_type=code is supported")
    scope = tuple(dict.fromkeys(params.get("scope", "").split()))
    if "openid" not in scope:
        raise InvalidScope("the openid scope is required")
    refused = [s for s in scope if s not in client.allowed_scopes]
    if refused:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(refused)}")
    if params.get("code_challenge_method") != "S256":
        raise InvalidRequest("PKCE is required: code_challenge_method=S256")
    challenge = params.get("code_challenge", "")
    if not PKCE_CHALLENGE.match(challenge):
        raise InvalidRequest("code_challenge must be a base64url SHA-256 (43 characters)")
    prompt = frozenset(params.get("prompt", "").split())
    if prompt - PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise InvalidRequest("unsupported prompt value")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scope=scope,
        state=params.get("state"),
        nonce=params.get("nonce"),
        code_challenge=challenge,
        prompt=prompt,
    )


def facts_of(principal: Principal) -> SignInFacts:
    """What the browser session asserts: its sid, its level of assurance as acr, its methods, its time."""
    if principal.kind != "customer" or not principal.sid:
        raise InvalidRequest("a customer's browser session is needed")
    return SignInFacts(
        customer_id=principal.id,
        sid=principal.sid,
        acr=f"urn:atrium:loa:{principal.loa}",
        amr=tuple(principal.amr),
        auth_time=principal.auth_time or clock.now(),
    )


def needs_consent(session: Session, request: AuthorizationRequest, customer_id: str) -> bool:
    """First-party clients never ask; a third party asks for scopes the customer has not yet allowed it,
    and always when the client says prompt=consent."""
    if request.client.first_party:
        return False
    if "consent" in request.prompt:
        return True
    row = session.get(OidcConsent, (customer_id, request.client.client_id))
    return row is None or not set(request.scope) <= set(row.scope.split())


def record_consent(session: Session, request: AuthorizationRequest, customer_id: str) -> None:
    row = session.get(OidcConsent, (customer_id, request.client.client_id))
    if row is None:
        session.add(
            OidcConsent(
                customer_id=customer_id,
                client_id=request.client.client_id,
                scope=" ".join(request.scope),
                granted_at=clock.now(),
            )
        )
    else:
        row.scope = " ".join(sorted(set(row.scope.split()) | set(request.scope)))
        row.granted_at = clock.now()
    session.flush()


def issue_code(session: Session, request: AuthorizationRequest, facts: SignInFacts) -> str:
    code = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        OidcAuthorizationCode(
            code_hash=code_digest(code),
            client_id=request.client.client_id,
            customer_id=facts.customer_id,
            sid=facts.sid,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scope),
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            acr=facts.acr,
            amr=",".join(facts.amr),
            auth_time=facts.auth_time,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    session.flush()
    return code
