"""CSRF protection for the mobile app's form posts and htmx writes: a signed double-submit token.

A random nonce lives in the `atrium_csrf` cookie. Every form carries `csrf_token` (htmx requests send the
`X-CSRF-Token` header) = HMAC(secret_key, nonce | session). A cross-site page can make the browser send
the cookie but can neither read it nor compute the HMAC, so it cannot produce the token. Binding the
token to the session cookie means a nonce planted by a sibling subdomain, together with a token the
attacker obtained for their own session, is still refused (OWASP's "signed double-submit cookie").
The session cookie is SameSite=Lax as a second wall.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from atrium.config import get_settings
from atrium.kit.errors import Forbidden
from atrium.web.deps import SESSION_COOKIE

CSRF_COOKIE = "atrium_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_NONCE_BYTES = 24


class CsrfFailed(Forbidden):
    code = "csrf-failed"
    title = "The form has expired; reload the page and try again"


def _sign(nonce: str, session_token: str | None) -> str:
    key = get_settings().security.secret_key.encode()
    message = f"atrium-csrf|{nonce}|{session_token or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _nonce(request: Request) -> str:
    """The request's nonce: the cookie's, or a new one (set on the response by `ensure_cookie`)."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        nonce = request.cookies.get(CSRF_COOKIE)
        if not nonce or len(nonce) > 100:
            nonce = secrets.token_urlsafe(_NONCE_BYTES)
            request.state.csrf_new = True
        request.state.csrf_nonce = nonce
    return nonce


def token_for(request: Request, session_token: str | None = None) -> str:
    """The token to embed in this request's forms. `session_token` overrides the cookie's session
    (right after login, when the new session cookie is only on the response)."""
    if session_token is None:
        session_token = request.cookies.get(SESSION_COOKIE)
    return _sign(_nonce(request), session_token)


def ensure_cookie(request: Request, response: Response) -> None:
    """Set the nonce cookie if this request minted a new one."""
    if getattr(request.state, "csrf_new", False):
        settings = get_settings()
        response.set_cookie(
            CSRF_COOKIE,
            _nonce(request),
            httponly=True,
            samesite="lax",
            path="/",
            secure=settings.security.cookie_secure,
        )


async def verify(request: Request) -> None:
    """Raise CsrfFailed unless the request carries a token matching its cookie and session."""
    nonce = request.cookies.get(CSRF_COOKIE)
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it; the endpoint's Form fields read the same
            value = form.get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    if not nonce or not submitted:
        raise CsrfFailed("the CSRF token is missing")
    expected = _sign(nonce, request.cookies.get(SESSION_COOKIE))
    if not hmac.compare_digest(expected, submitted):
        raise CsrfFailed("the CSRF token does not match")
