"""Registered OAuth clients: who may ask for a sign-in, where the answer may go, and how they prove it.

Redirect URIs are compared exactly (no prefix or wildcard matching: OAuth 2.0 Security BCP). A
confidential client authenticates with its secret (HTTP Basic or client_secret_post); generated secrets
have 256 bits of entropy, so their SHA-256 is stored ("sha256:…"), while a human-chosen one gets argon2id.
A public client (a native app) has no secret and relies on PKCE alone.

The bank's own default clients get secrets derived from the deployment secret key, so the in-process
relying party (Atrium Life) and the demo know them without anybody storing them in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from urllib.parse import unquote

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity import passwords
from atrium.identity.oidc.errors import InvalidClient
from atrium.identity.oidc.models import OidcClient
from atrium.identity.oidc.schemas import ClientRead

MOBILE_CLIENT = "atrium-mobile"
LIFE_CLIENT = "atrium-life"
PARTNER_CLIENT = "partner-demo"
MOBILE_REDIRECT = "cn.atrium.mobile:/oauth2/callback"  # RFC 8252 private-use URI scheme
PARTNER_REDIRECT = "https://partner-demo.example/callback"
PARTNER_LOGOUT_REDIRECT = "https://partner-demo.example/signed-out"
LIFE_CALLBACK = "/life/callback"
# Calling the Atrium API (/api/v1) with an access token: only clients allowed this scope may (the bank's
# own apps); a partner's token proves who the customer is and nothing more.
API_SCOPE = "atrium:api"
LIFE_SIGNED_OUT = "/life/signed-out"


def _read(row: OidcClient) -> ClientRead:
    return ClientRead(
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        post_logout_redirect_uris=tuple(json.loads(row.post_logout_redirect_uris)),
        kind=row.kind,
        allowed_scopes=tuple(row.allowed_scopes.split()),
        first_party=row.first_party,
    )


def _hash_secret(secret: str, *, generated: bool) -> str:
    if generated:
        return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()
    return passwords.hash_password(secret)


def _secret_matches(stored: str | None, secret: str) -> bool:
    if not stored or not secret:
        return False
    if stored.startswith("sha256:"):
        return hmac.compare_digest(stored, "sha256:" + hashlib.sha256(secret.encode()).hexdigest())
    return passwords.verify_password(stored, secret)


def register_client(
    session: Session,
    *,
    client_id: str,
    name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    kind: str = "confidential",
    first_party: bool = False,
    secret: str | None = None,
    post_logout_redirect_uris: Sequence[str] = (),
    secret_is_random: bool = False,
) -> tuple[ClientRead, str | None]:
    """Register (or update) a client. A confidential client without a given secret gets a generated one,
    returned once (only its hash is kept). `secret_is_random`: the given secret is machine generated."""
    if kind not in ("public", "confidential"):
        raise ValueError("kind is public or confidential")
    generated = secret_is_random
    if kind == "confidential" and secret is None:
        secret, generated = secrets.token_urlsafe(32), True
    row = session.get(OidcClient, client_id) or OidcClient(client_id=client_id)
    row.name = name
    row.redirect_uris = json.dumps(list(redirect_uris))
    row.post_logout_redirect_uris = json.dumps(list(post_logout_redirect_uris))
    row.kind = kind
    row.allowed_scopes = " ".join(scopes)
    row.first_party = first_party
    row.secret_hash = _hash_secret(secret, generated=generated) if secret is not None else None
    session.add(row)
    session.flush()
    return _read(row), (secret if kind == "confidential" else None)


def default_client_secret(client_id: str) -> str:
    """The secret of one of the bank's own confidential clients, derived from the deployment key."""
    key = get_settings().security.secret_key.encode()
    return hmac.new(key, f"atrium-oidc-client|{client_id}".encode(), hashlib.sha256).hexdigest()


def ensure_default_clients(session: Session, base_url: str) -> list[ClientRead]:
    """Register the mobile app (public, first party), Atrium Life (confidential, first party) and a sample
    third-party partner (confidential, asks the customer's consent). Idempotent; `base_url` is where
    this bank is served (e.g. "http://127.0.0.1:8000"), which Atrium Life's redirect URIs live under."""
    base = base_url.rstrip("/")
    made = [
        register_client(
            session,
            client_id=MOBILE_CLIENT,
            name="Atrium Mobile",
            kind="public",
            first_party=True,
            redirect_uris=[MOBILE_REDIRECT],
            scopes=["openid", "profile", "offline_access", API_SCOPE],
        )[0],
        register_client(
            session,
            client_id=LIFE_CLIENT,
            name="Atrium Life",
            first_party=True,
            secret=default_client_secret(LIFE_CLIENT),
            secret_is_random=True,
            redirect_uris=[base + LIFE_CALLBACK],
            post_logout_redirect_uris=[base + LIFE_SIGNED_OUT],
            scopes=["openid", "profile", "offline_access"],
        )[0],
        register_client(
            session,
            client_id=PARTNER_CLIENT,
            name="Partner Demo",
            first_party=False,
            secret=default_client_secret(PARTNER_CLIENT),
            secret_is_random=True,
            redirect_uris=[PARTNER_REDIRECT],
            post_logout_redirect_uris=[PARTNER_LOGOUT_REDIRECT],
            scopes=["openid", "profile"],
        )[0],
    ]
    return made


def get_client(session: Session, client_id: str | None) -> ClientRead | None:
    if not client_id or len(client_id) > 64:
        return None
    row = session.get(OidcClient, client_id)
    return _read(row) if row is not None else None


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic credentials")
    return unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1: form-urlencoded before Basic


def authenticate_client(session: Session, *, authorization: str | None, form: dict[str, str]) -> ClientRead:
    """The client making a token/revocation request: a confidential client proves its secret (Basic or
    client_secret_post), a public one names itself with `client_id` (PKCE protects its codes)."""
    basic = _basic(authorization)
    if basic is not None:
        client_id, secret = basic
        if form.get("client_id") and form["client_id"] != client_id:
            raise InvalidClient("two different client ids")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    client = get_client(session, client_id)
    if client is None:
        passwords.verify_password(None, secret or "x")  # as slow as a known client: no id probing
        raise InvalidClient("unknown client or wrong secret")
    if client.kind == "confidential":
        row = session.get(OidcClient, client.client_id)
        if row is None or not _secret_matches(row.secret_hash, secret):
            raise InvalidClient("unknown client or wrong secret")
    elif secret:
        raise InvalidClient("a public client has no secret")
    return client
