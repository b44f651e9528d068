"""Security headers on every response — API, pages, static files, errors — as one ASGI middleware.

A header a route set itself is kept (pages send their own CSP, Referrer-Policy and Cache-Control);
the middleware only fills in what is missing:

- `X-Content-Type-Options: nosniff`; `X-Frame-Options: DENY` (old browsers; pages also send CSP
  `frame-ancestors 'none'`); `Referrer-Policy: no-referrer` (pages keep their `same-origin`);
- `Permissions-Policy: camera=(self), microphone=(), geolocation=()` — the QR payment page scans with the
  camera; nothing uses location or the microphone;
- `Cross-Origin-Opener-Policy: same-origin` (no cross-window handle onto a banking page);
- `Strict-Transport-Security` when `settings.security.cookie_secure` (i.e. the site is served over HTTPS);
- `Cache-Control: no-store` on every /api/ response: nearly all of it is personal (balances, sessions,
  tokens), and one rule is safer than a list of exceptions. A route that wants caching says so itself.

Install: `app.add_middleware(SecurityHeadersMiddleware)` in `create_app` (or `install(app)`).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atrium.config import get_settings

API_PREFIX = "/api/"
HSTS = "max-age=31536000; includeSubDomains"
ALWAYS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def headers_for(path: str, *, https: bool) -> list[tuple[str, str]]:
    """The defaults a response to `path` gets (each only where the response has not set it)."""
    wanted = list(ALWAYS)
    if https:
        wanted.append(("Strict-Transport-Security", HSTS))
    if path.startswith(API_PREFIX):
        wanted.append(("Cache-Control", "no-store"))
    return wanted


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope.get("path", ""), https=get_settings().security.cookie_secure)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    app.add_middleware(SecurityHeadersMiddleware)
