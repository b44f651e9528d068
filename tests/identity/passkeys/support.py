"""Helpers for the passkey API and page tests: an app served at http://localhost (WebAuthn refuses IP
addresses and unknown hosts as relying parties), customers, and sessions at a chosen level."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

# Imported at the top so every table the app uses is registered before the test schema is built.
from atrium.app import create_app
from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.web.deps import SESSION_COOKIE

BASE = "http://localhost"
PASSWORD = "correct horse battery"


def app_with_passkeys() -> FastAPI:
    """The real app. Passkeys' API router and page are part of it once the lead wires them in
    (web/api/router.py, web/mobile/pages/__init__.py); until then they are added here, the same way."""
    from atrium.identity.passkeys.endpoints import router as passkeys_api
    from atrium.web.mobile.pages import security_passkeys

    app = create_app(start_background=False)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/auth/passkeys" not in paths:
        app.include_router(passkeys_api, prefix="/api/v1")
    if "/security/passkeys" not in paths:
        app.include_router(security_passkeys.router, include_in_schema=False)
    return app


def localhost_client(app: FastAPI | None = None) -> Iterator[TestClient]:
    """A client of `app` (default: app_with_passkeys()) at http://localhost, a WebAuthn relying party."""
    with TestClient(app or app_with_passkeys(), base_url=BASE) as c:
        yield c


def make_customer(db: Database, username: str = "mei", display_name: str = "王美") -> str:
    with db.unit_of_work() as s:
        return identity.create_customer(s, username=username, password=PASSWORD, display_name=display_name).id


def open_session(db: Database, customer_id: str, amr: list[str]) -> str:
    """A session at the level `amr` gives (["pwd"] → 1, ["pwd", "otp"] → 2); returns the token."""
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=amr, client="mobile")
    return token


def sign_in_as(client: TestClient, db: Database, customer_id: str, amr: list[str]) -> str:
    token = open_session(db, customer_id, amr)
    client.cookies.set(SESSION_COOKIE, token)
    return token
