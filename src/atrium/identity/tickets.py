"""Short-lived signed statements the server hands out and later takes back: sign-in tickets between the
first and second factor, step-up challenges. JWTs (HS256 under a key derived from the secret key, one
derived key per purpose) through joserfc — never hand-rolled JOSE. Stateless: what must be single use is
made so by the factor it leads to (a code is used once, a grant is consumed once)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from atrium.config import get_settings
from atrium.kit import clock
from atrium.kit.errors import Unauthenticated


class TicketInvalid(Unauthenticated):
    code = "ticket-invalid"
    title = "The sign-in step has expired or is not valid; start again"


def _key(purpose: str) -> OctKey:
    secret = get_settings().security.secret_key.encode()
    return OctKey.import_key(hmac.new(secret, f"atrium ticket|{purpose}".encode(), hashlib.sha256).digest())


def issue(purpose: str, claims: dict[str, Any], *, ttl: timedelta) -> str:
    now = int(clock.now().timestamp())
    body = {
        **claims,
        "pur": purpose,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "jti": claims.get("jti") or secrets.token_urlsafe(12),
    }
    return jwt.encode({"alg": "HS256"}, body, _key(purpose))


def read(purpose: str, ticket: str) -> dict[str, Any]:
    """The claims, or TicketInvalid when the ticket is malformed, forged, for another purpose or expired."""
    if not ticket or len(ticket) > 4096:
        raise TicketInvalid("no ticket")
    try:
        token = jwt.decode(ticket, _key(purpose), algorithms=["HS256"])
    except (JoseError, ValueError) as exc:
        raise TicketInvalid("the ticket is not valid") from exc
    claims = dict(token.claims)
    if claims.get("pur") != purpose:
        raise TicketInvalid("the ticket is for something else")
    if int(claims.get("exp", 0)) <= clock.now().timestamp():
        raise TicketInvalid("the ticket has expired")
    return claims
