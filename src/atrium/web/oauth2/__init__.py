"""The OpenID Connect provider on the web: the protocol endpoints (`atrium.identity.oidc.endpoints`:
discovery, JWKS, token, revocation, userinfo) and the browser pages (`pages`: authorization with consent,
RP-initiated logout), mounted by `install(app)`.
"""

from __future__ import annotations

from fastapi import FastAPI

from atrium.identity.oidc.endpoints import router as protocol_router
from atrium.web.oauth2.pages import router as pages_router

# Routes anyone may call: the client or the bearer token authenticates inside the request, and the
# browser pages look at the session cookie themselves (the consent POST needs a customer session).
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/oauth2/jwks"),
        ("POST", "/oauth2/token"),
        ("POST", "/oauth2/revoke"),
        ("GET", "/oauth2/userinfo"),
        ("POST", "/oauth2/userinfo"),
        ("GET", "/oauth2/authorize"),
        ("GET", "/oauth2/logout"),
        ("POST", "/oauth2/logout"),
    }
)


def install(app: FastAPI) -> None:
    app.include_router(protocol_router)
    app.include_router(pages_router)


__all__ = ["PUBLIC_ROUTES", "install"]
