"""The OpenID Connect provider's use cases, in one place for callers outside the package.

- keys: `jwks`, `rotate_keys`, `ensure_key`
- clients: `ensure_default_clients`, `register_client`, `get_client`, `default_client_secret`
- authorization: `check_request`, `facts_of`, `needs_consent`, `record_consent`, `issue_code`
- tokens: `token_request` (the token endpoint, also called in-process by Atrium Life)
- use: `authenticate_access_token`, `access_claims`, `userinfo`, `revoke_token`
- sessions: `check_logout`, `end_session`, `revoke_session_grants`

Services flush; the edge commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from atrium.identity.oidc import keys
from atrium.identity.oidc.access import (
    LogoutRequest,
    access_claims,
    authenticate_access_token,
    check_logout,
    end_session,
    revoke_token,
    userinfo,
)
from atrium.identity.oidc.authorize import check_request, facts_of, issue_code, needs_consent, record_consent
from atrium.identity.oidc.clients import (
    API_SCOPE,
    LIFE_CLIENT,
    MOBILE_CLIENT,
    PARTNER_CLIENT,
    authenticate_client,
    default_client_secret,
    ensure_default_clients,
    get_client,
    register_client,
)
from atrium.identity.oidc.tokens import ACCESS_AUDIENCE, revoke_session_grants, token_request

SCOPES_SUPPORTED = ("openid", "profile", "offline_access", API_SCOPE)


def jwks(session: Session) -> dict[str, Any]:
    return keys.jwks(session)


def ensure_key(session: Session) -> str:
    return keys.ensure_key(session)


def rotate_keys(session: Session) -> str:
    """Start signing with a new key; the old one stays published (tokens it signed keep verifying)."""
    return keys.rotate(session)


def discovery(issuer: str) -> dict[str, Any]:
    """OpenID Provider Metadata (OIDC Discovery 1.0 §3, RFC 8414)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
        "jwks_uri": f"{issuer}/oauth2/jwks",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "end_session_endpoint": f"{issuer}/oauth2/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys.ALG],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES_SUPPORTED),
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
            "azp",
            "name",
            "preferred_username",
            "locale",
        ],
        "acr_values_supported": ["urn:atrium:loa:1", "urn:atrium:loa:2"],
        "prompt_values_supported": ["none", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }


__all__ = [
    "ACCESS_AUDIENCE",
    "API_SCOPE",
    "LIFE_CLIENT",
    "MOBILE_CLIENT",
    "PARTNER_CLIENT",
    "LogoutRequest",
    "access_claims",
    "authenticate_access_token",
    "authenticate_client",
    "check_logout",
    "check_request",
    "default_client_secret",
    "discovery",
    "end_session",
    "ensure_default_clients",
    "ensure_key",
    "facts_of",
    "get_client",
    "issue_code",
    "jwks",
    "needs_consent",
    "record_consent",
    "register_client",
    "revoke_session_grants",
    "revoke_token",
    "rotate_keys",
    "token_request",
    "userinfo",
]
