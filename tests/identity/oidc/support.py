"""Helpers for the OpenID Connect tests: the app with the provider and Life mounted, a browser session,
PKCE pairs, and one authorization-code round trip."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient

from atrium.app import create_app  # imported early: every table the app's modules declare is in the schema
from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.identity.oidc import models as _oidc_models  # noqa: F401 - the tables, for the test schema
from atrium.identity.oidc import service as oidc
from atrium.web.deps import SESSION_COOKIE

BASE = "http://testserver"
LIFE_REDIRECT = BASE + "/life/callback"
PARTNER_REDIRECT = "https://partner-demo.example/callback"
PASSWORD = "correct horse battery"


def oidc_app() -> FastAPI:
    """The whole app (create_app mounts the provider and Atrium Life)."""
    return create_app(start_background=False)


@dataclass
class Customer:
    id: str
    username: str
    display_name: str


def make_customer(db: Database, username: str = "lin", display_name: str = "林晓") -> Customer:
    with db.unit_of_work() as s:
        row = identity.create_customer(s, username=username, password=PASSWORD, display_name=display_name)
        oidc.ensure_default_clients(s, BASE)
        return Customer(id=row.id, username=username, display_name=display_name)


def browser_session(
    db: Database, client: TestClient, customer: Customer, amr: tuple[str, ...] = ("pwd", "sms")
) -> str:
    """Sign the test client's "browser" in (as /login would) and return the session's sid."""
    with db.unit_of_work() as s:
        token, principal = sessions.open_session(s, customer_id=customer.id, amr=list(amr))
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")  # where TestClient keeps cookies
    assert principal.sid
    return principal.sid


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(
    client_id: str = oidc.LIFE_CLIENT, redirect_uri: str = LIFE_REDIRECT, challenge: str = "", **extra: str
) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile offline_access",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(client: TestClient, params: dict[str, str]) -> str:
    r = client.get("/oauth2/authorize", params=params, follow_redirects=False)
    assert r.status_code == 303, r.text
    answer = query_of(r.headers["location"])
    assert answer.get("state") == params["state"], answer
    assert answer.get("iss") == BASE
    return answer["code"]


def life_secret() -> str:
    return oidc.default_client_secret(oidc.LIFE_CLIENT)


def exchange(client: TestClient, code: str, verifier: str, **overrides: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": LIFE_REDIRECT,
        "code_verifier": verifier,
        "client_id": oidc.LIFE_CLIENT,
        "client_secret": life_secret(),
    }
    form.update(overrides)
    return client.post("/oauth2/token", data=form)


def refresh(client: TestClient, token: str) -> Any:
    return client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(oidc.LIFE_CLIENT, life_secret()),
    )


def sign_in_to_life_client(db: Database, client: TestClient, customer: Customer) -> dict[str, Any]:
    """One full code + PKCE round trip for the atrium-life client; returns the token response."""
    browser_session(db, client, customer)
    verifier, challenge = pkce()
    code = get_code(client, authorize_params(challenge=challenge))
    r = exchange(client, code, verifier)
    assert r.status_code == 200, r.text
    return r.json()
