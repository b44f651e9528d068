"""Security headers on every response (API, pages, static files, errors), without clobbering a page's own."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from atrium.config import get_settings
from atrium.web import security_headers
from atrium.web.security_headers import SecurityHeadersMiddleware

EVERYWHERE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(self), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


def _has_all(headers, expected: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, value in expected.items():
        assert headers.get(name) == value, (name, headers.get(name))


@pytest.mark.parametrize(
    "path", ["/api/v1/health", "/api/v1/auth/sessions", "/api/v1/no-such-route", "/login", "/no-such-page",
             "/static/mobile/css/app.css", "/manifest.webmanifest", "/staff/login"],
)
def test_every_response_carries_the_headers(client, path):
    r = client.get(path, follow_redirects=False)
    _has_all(r.headers, EVERYWHERE)
    assert "strict-transport-security" not in r.headers  # plain HTTP in development and tests


def test_api_responses_are_never_stored_and_send_no_referrer(client):
    for path in ("/api/v1/health", "/api/v1/auth/sessions"):
        r = client.get(path)
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["referrer-policy"] == "no-referrer"
    r = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong password"})
    assert r.status_code == 401 and r.headers["cache-control"] == "no-store"


def test_pages_keep_their_own_headers(client):
    r = client.get("/login")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "same-origin"  # the page's own choice is kept
    assert r.headers["cache-control"] == "no-store"


def test_static_files_stay_cacheable(client):
    r = client.get("/static/mobile/css/app.css")
    assert r.status_code == 200
    assert r.headers.get("cache-control") != "no-store"  # only /api/ gets no-store by default
    assert r.headers["referrer-policy"] == "no-referrer"


def test_hsts_when_the_site_is_served_over_https(client, monkeypatch):
    monkeypatch.setattr(get_settings().security, "cookie_secure", True)
    for path in ("/api/v1/health", "/login", "/static/mobile/css/app.css"):
        r = client.get(path)
        assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_headers_a_route_set_are_not_replaced():
    app = FastAPI()

    @app.get("/api/own")
    def own() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "private, max-age=60", "X-Frame-Options":
                                               "SAMEORIGIN", "Referrer-Policy": "strict-origin"})

    @app.get("/plain")
    def plain() -> PlainTextResponse:
        return PlainTextResponse("x")

    security_headers.install(app)
    with TestClient(app) as c:
        r = c.get("/api/own")
        assert r.headers["cache-control"] == "private, max-age=60"
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        assert r.headers["referrer-policy"] == "strict-origin"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert len(r.headers.get_list("x-frame-options")) == 1
        r = c.get("/plain")
        assert "cache-control" not in r.headers  # not under /api/
        _has_all(r.headers, EVERYWHERE)
    assert any(m.cls is SecurityHeadersMiddleware for m in app.user_middleware)


def test_the_defaults_by_path():
    assert ("Cache-Control", "no-store") in security_headers.headers_for("/api/v1/x", https=False)
    assert ("Cache-Control", "no-store") not in security_headers.headers_for("/apiary", https=False)
    assert any(n == "Strict-Transport-Security" for n, _ in security_headers.headers_for("/", https=True))
