"""The installable-app parts: web app manifest, service worker and the offline page. All public.

The service worker lives at /sw.js (its scope is the path it is served from, so it must be at the root).
It precaches the app shell (CSS, JS, icons, the offline page) under a version derived from those files, so
a deploy that changes any of them replaces the cache. Pages with personal data are never cached: the
worker goes to the network for them and shows the offline page when there is none.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import (
    STATIC_DIR,
    VENDOR_DIR,
    env,
    finish,
    render,
    static_url,
    translator,
    vendor_url,
)

router = APIRouter(route_class=PageRoute)

SHELL_STATIC = ("css/app.css", "js/app.js", "icons.svg", "icons/icon.svg", "icons/icon-192.png")
SHELL_VENDOR = ("htmx.min.js",)
OFFLINE_PATH = "/offline"


def shell_urls() -> list[str]:
    return [OFFLINE_PATH] + [static_url(n) for n in SHELL_STATIC] + [vendor_url(n) for n in SHELL_VENDOR]


@lru_cache(maxsize=1)
def _shell_version() -> str:
    digest = hashlib.sha256()
    for path in [STATIC_DIR / n for n in SHELL_STATIC] + [VENDOR_DIR / n for n in SHELL_VENDOR]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    for name in ("sw.js", "pages/offline.html", "base.html"):
        digest.update(env.loader.get_source(env, name)[0].encode())  # type: ignore[union-attr]
    return digest.hexdigest()[:16]


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    t = translator(request)
    body = {
        "id": "/",
        "name": t("app.name_full"),
        "short_name": t("app.name"),
        "description": t("app.tagline"),
        "lang": "zh-CN" if t.locale == "zh" else "en",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f2f4f8",
        "theme_color": "#0f2f7a",
        "categories": ["finance"],
        "icons": [
            {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static_url("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
        "shortcuts": [
            {"name": t("nav.transfer"), "url": "/transfer"},
            {"name": t("limits.title"), "url": "/limits"},
        ],
    }
    response = JSONResponse(body, media_type="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


@router.get("/sw.js")
def service_worker() -> Response:
    script = env.get_template("sw.js").render(
        version=_shell_version(), shell=shell_urls(), offline=OFFLINE_PATH
    )
    return Response(
        script,
        media_type="text/javascript",
        headers={
            "Cache-Control": "no-cache",  # browsers must see a new worker as soon as it is deployed
            "Service-Worker-Allowed": "/",
        },
    )


@router.get(OFFLINE_PATH)
def offline(request: Request) -> Response:
    # Precached by the worker and shown to anyone: it carries no CSRF token and no personal data.
    response = render(
        request, "pages/offline.html", title=translator(request)("offline.title"), csrf_token=""
    )
    response.headers["Cache-Control"] = "no-cache"
    return finish(request, response)
