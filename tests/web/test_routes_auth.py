"""Every route either demands a principal or is listed as public — checked on the live route table.

A route whose dependency tree contains none of atrium.web.deps' principal dependencies (`_principal`,
`_customer`, `_staff`) must appear in `PUBLIC_ROUTES`; every listed public route must exist (a stale
entry is an audit hole waiting for a new route). Then the app is called: without a session every
protected API route answers 401 problem+json, and every protected page goes to /login.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from atrium.app import create_app
from atrium.identity import service as identity
from atrium.risk.endpoints import auth as risk_auth
from atrium.web import deps

PRINCIPAL_DEPENDENCIES: dict[Callable[..., Any], str] = {
    deps._principal: "principal",
    deps._customer: "customer",
    deps._staff: "staff",
    # The decision API's machine clients (card networks): a channel key, never a person's credential.
    risk_auth.channel_client: "channel",
}
DUMMY_ID = "x_00000000000000000000000000"
PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def requires(self) -> set[str]:
        return {PRINCIPAL_DEPENDENCIES[c] for c in _calls(self.dependant) if c in PRINCIPAL_DEPENDENCIES}

    def url(self) -> str:
        """The path with every parameter filled with a dummy value of its type."""
        kinds = {p.name: p.field_info.annotation for p in self.dependant.path_params}

        def fill(m: re.Match[str]) -> str:
            return "1" if kinds.get(m.group(1)) is int else DUMMY_ID

        return PARAM.sub(fill, self.path)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) of every APIRoute, including routes of included routers."""
    out: list[Endpoint] = []
    if hasattr(fastapi_routing, "iter_route_contexts"):  # FastAPI keeps included routers lazily
        for ctx in fastapi_routing.iter_route_contexts(app.routes):
            if isinstance(ctx.original_route, APIRoute):
                out += [Endpoint(m, ctx.path, ctx.dependant) for m in sorted(ctx.methods or ())]
    else:
        for route in app.routes:
            if isinstance(route, APIRoute):
                out += [Endpoint(m, route.path, route.dependant) for m in sorted(route.methods)]
    return out


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(start_background=False)


@pytest.fixture(scope="module")
def all_endpoints(app: FastAPI) -> list[Endpoint]:
    found = endpoints(app)
    assert any(e.key == ("GET", "/api/v1/health") for e in found), "the route walk found no API routes"
    return found


def test_every_route_is_protected_or_listed_public(all_endpoints: list[Endpoint]) -> None:
    unlisted = sorted(e.key for e in all_endpoints if not e.requires() and e.key not in deps.PUBLIC_ROUTES)
    assert not unlisted, (
        "routes without a principal dependency (CurrentCustomer/CurrentStaff/CurrentPrincipal) that are "
        f"not in atrium.web.deps.PUBLIC_ROUTES: {unlisted}"
    )


def test_every_listed_public_route_exists_and_is_public(all_endpoints: list[Endpoint]) -> None:
    by_key = {e.key: e for e in all_endpoints}
    missing = sorted(k for k in deps.PUBLIC_ROUTES if k not in by_key)
    assert not missing, f"PUBLIC_ROUTES lists routes that do not exist: {missing}"
    contradictory = sorted(k for k in deps.PUBLIC_ROUTES if by_key[k].requires())
    assert not contradictory, f"PUBLIC_ROUTES lists routes that demand a principal: {contradictory}"


def _protected(all_endpoints: list[Endpoint], *, api: bool) -> list[Endpoint]:
    return [e for e in all_endpoints if e.key not in deps.PUBLIC_ROUTES and e.is_api is api]


def _call(client: TestClient, e: Endpoint, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return client.request(e.method, e.url(), headers=headers or {}, follow_redirects=False)


def test_protected_api_routes_answer_401_without_a_session(client: TestClient,
                                                            all_endpoints: list[Endpoint]) -> None:
    client.cookies.clear()
    wrong = []
    for e in _protected(all_endpoints, api=True):
        r = _call(client, e)
        if r.status_code != 401 or r.headers.get("content-type") != "application/problem+json":
            wrong.append((e.method, e.url(), r.status_code, r.text[:120]))
        r = _call(client, e, {"Authorization": "Bearer not-a-real-token"})
        if r.status_code != 401:
            wrong.append((e.method, e.url(), "bad token", r.status_code))
    assert not wrong, wrong


def _is_login_redirect(r) -> bool:  # type: ignore[no-untyped-def]
    location = r.headers.get("location", "") or r.headers.get("hx-redirect", "")
    return r.status_code in (302, 303, 307, 401) and location.split("?")[0].endswith("/login")


def test_protected_pages_send_a_visitor_to_login(client: TestClient, all_endpoints: list[Endpoint]) -> None:
    client.cookies.clear()
    wrong = []
    for e in _protected(all_endpoints, api=False):
        r = _call(client, e)
        # A form post may be refused for its missing CSRF token before the session is looked at: also a no.
        if not (_is_login_redirect(r) or (e.method != "GET" and r.status_code == 403)):
            wrong.append((e.method, e.url(), r.status_code, r.headers.get("location")))
    assert not wrong, wrong


def _token(client: TestClient, kind: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": f"audit-{kind}", "password": "audit password 1",
                                                "kind": kind})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # the login also set a cookie; each request below says who it is explicitly
    return r.json()["token"]


def test_customer_and_staff_routes_refuse_the_other_kind(client: TestClient, db,  # type: ignore[no-untyped-def]
                                                         all_endpoints: list[Endpoint]) -> None:
    with db.unit_of_work() as s:
        identity.create_customer(s, username="audit-customer", password="audit password 1",
                                 display_name="Audit")
        identity.create_staff(s, username="audit-staff", password="audit password 1", display_name="Audit",
                              role="operator")
    tokens = {"customer": _token(client, "customer"), "staff": _token(client, "staff")}
    wrong = []
    for e in _protected(all_endpoints, api=True):
        required = e.requires()
        for kind, other in (("customer", "staff"), ("staff", "customer")):
            if kind in required:
                r = _call(client, e, {"Authorization": f"Bearer {tokens[other]}"})
                if r.status_code != 403 or r.headers.get("content-type") != "application/problem+json":
                    wrong.append((e.method, e.url(), f"{other} on a {kind} route", r.status_code))
    assert not wrong, wrong
