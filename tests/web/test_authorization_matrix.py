"""The authorisation matrix: every route × every role gets exactly the answer `atrium.web.access` says.

Roles: anonymous, a customer, and each staff role. Each call runs on a fresh session minted for it (a
route that signs out must not sign out the next call), with a valid CSRF token for form posts, and
dummy path parameters and bodies: an allowed caller then meets a 404 or a 422 — what matters is whether
the request got past authentication and authorisation. A route missing from the table, or a table line
without a route, fails too.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from atrium.app import create_app
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.staff.permissions import ROLES, allowed
from atrium.web import access
from atrium.web.mobile import csrf
from tests.web.test_routes_auth import Endpoint, endpoints

ANONYMOUS, CUSTOMER = "anonymous", "customer"
CALLERS = (ANONYMOUS, CUSTOMER, *ROLES)
NONCE = "matrix-csrf-nonce"
# Answers that mean "you got in, but this action needs more": not an authorisation refusal.
ASSURANCE = ("step-up-required", "second-factor-missing")


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return create_app(start_background=False)


@pytest.fixture(scope="module")
def all_endpoints(app) -> list[Endpoint]:  # type: ignore[no-untyped-def]
    return endpoints(app)


def test_every_route_has_exactly_one_rule(all_endpoints: list[Endpoint]) -> None:
    routes = {e.key for e in all_endpoints}
    missing = sorted(routes - access.ACCESS.keys())
    assert not missing, f"routes with no line in atrium.web.access.ACCESS: {missing}"
    stale = sorted(access.ACCESS.keys() - routes)
    assert not stale, f"atrium.web.access.ACCESS lines for routes that do not exist: {stale}"


def expected(rule: str, caller: str) -> bool:
    if rule == access.PUBLIC:
        return True
    if rule == access.CHANNEL or rule.startswith(access.CHANNEL + ":"):
        # Machine clients only (a channel key): no person gets in (tests/risk/test_endpoints.py: the keys).
        return False
    if caller == ANONYMOUS:
        return False
    if rule == access.SIGNED_IN:
        return True
    if rule == access.CUSTOMER:
        return caller == CUSTOMER
    if caller == CUSTOMER:
        return False
    if rule == access.STAFF:
        return True
    assert rule.startswith("staff:"), rule
    return allowed(caller, rule.removeprefix("staff:"))


def _problem_code(r: Any) -> str:
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        return str(r.json().get("type", "")).rsplit("/", 1)[-1]
    return ""


def refused(e: Endpoint, r: Any, rule: str) -> bool:
    """Did authentication or authorisation turn the request away? (A public page may send anyone on to a
    sign-in page — /logout does, /life does to its own — without refusing them.)"""
    if rule == access.PUBLIC:
        return r.status_code == 403 or _problem_code(r) in ("unauthenticated", "session-expired")
    if e.is_api:
        return r.status_code in (401, 403) and _problem_code(r) not in ASSURANCE
    location = r.headers.get("location", "") or r.headers.get("hx-redirect", "")
    to_login = r.status_code in (302, 303, 307, 401) and location.split("?")[0].endswith("/login")
    return to_login or r.status_code == 403


@pytest.fixture()
def callers(db) -> dict[str, tuple[str, str] | None]:  # type: ignore[no-untyped-def]
    """Who each caller is: (kind, id), None for anonymous."""
    with db.unit_of_work() as s:
        out: dict[str, tuple[str, str] | None] = {ANONYMOUS: None}
        out[CUSTOMER] = (
            "customer",
            identity.create_customer(
                s,
                username="matrix",
                password="matrix password 1",
                display_name="Matrix",
                phone="+8613800000001",
            ).id,
        )
        for role in ROLES:
            out[role] = (
                "staff",
                identity.create_staff(
                    s, username=f"matrix-{role}", password="matrix password 1", display_name=role, role=role
                ).id,
            )
    return out


def _call(client: TestClient, db, e: Endpoint, who: tuple[str, str] | None):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    token = None
    if who is not None:
        kind, subject = who
        with db.unit_of_work() as s:
            token, _ = sessions.open_session(
                s,
                customer_id=subject if kind == "customer" else None,
                staff_id=subject if kind == "staff" else None,
                amr=["pwd", "sms"],
                client="mobile",
            )
    headers: dict[str, str] = {"Idempotency-Key": "matrix-key-0001"}
    if e.is_api:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"json": {}} if e.method in ("POST", "PUT", "PATCH") else {}
    else:
        client.cookies.set(csrf.CSRF_COOKIE, NONCE)
        if token:
            client.cookies.set("atrium_session", token)
        form = {csrf.CSRF_FIELD: csrf._sign(NONCE, token)}
        kwargs = {"data": form} if e.method in ("POST", "PUT", "PATCH") else {}
    return client.request(e.method, e.url(), headers=headers, follow_redirects=False, **kwargs)


def test_every_route_answers_every_caller_as_the_table_says(app, db, callers, all_endpoints) -> None:  # type: ignore[no-untyped-def]
    # "localhost": WebAuthn routes refuse hosts that are not a relying party (an IP, "testserver"). Entered
    # once: outside `with`, the client starts an event loop thread of its own for every request.
    wrong = []
    with TestClient(app, base_url="http://localhost") as client:
        for e in sorted(all_endpoints, key=lambda x: x.key):
            rule = access.ACCESS.get(e.key)
            if rule is None:
                continue  # reported by test_every_route_has_exactly_one_rule
            for caller in CALLERS:
                r = _call(client, db, e, callers[caller])
                if refused(e, r, rule) == expected(rule, caller):
                    got = f"{r.status_code} {_problem_code(r) or r.headers.get('location', '')}"
                    wrong.append(
                        f"{e.method} {e.path} as {caller}: table says "
                        f"{'allow' if expected(rule, caller) else 'refuse'} ({rule}), got {got}"
                    )
    assert not wrong, "\n".join(wrong)
