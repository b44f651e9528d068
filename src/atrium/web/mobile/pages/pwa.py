"""The installable-app parts: web app manifest, service worker and the offline page. All public.

Invariants:
- The service worker lives at /sw.js (its scope is the path it is served from, so it must be at the root).
  It precaches the app shell — the offline page in each language and every static file that page loads
  (found in its templates, so a file added to base.html joins the shell by itself) — under a version
  derived from those files, templates and catalogues: a deploy that changes any of them replaces the cache.
- Pages are never cached: they hold balances and names. The worker sends navigations to the network and
  shows the offline page when there is none; anything else that is not a content-hashed static file passes
  through untouched (API calls, htmx partials, the manifest).
- The worker script is the same bytes for every visitor (no language, no cookie in it), so a language
  switch never looks like a new deploy to the browser. It picks a language itself when it must speak
  (offline page, a push without a title) the way the server does: cookie, browser languages, default.
- A push shows one notification; its click opens a path on this origin only (`sw.js`). A replaced push
  subscription is renewed through the messages API.
- The staff console, Atrium Life and the API share the origin but not the app: the worker passes them by.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from atrium.config import get_settings
from atrium.web.mobile.i18n import LOCALE_COOKIE, LOCALES, Translator, catalogue_files
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

OFFLINE_PATH = "/offline"
OFFLINE_TEMPLATE = "pages/offline.html"
# The templates the offline page is drawn from: every static file they name is precached with it.
SHELL_TEMPLATES = ("base.html", "macros.html", OFFLINE_TEMPLATE)
NOTIFICATION_ICON = "icons/icon-192.png"
# Faces that share the origin but are not the customer app: the worker never answers for them.
OTHER_FACES = ("/staff", "/life", "/api", "/oauth2", "/.well-known")
# Where the worker renews a replaced push subscription (the messages API; a test checks both exist).
PUSH_KEY_URL = "/api/v1/messages/push-key"
PUSH_SUBSCRIPTIONS_URL = "/api/v1/messages/push-subscriptions"
_ASSET_CALL = re.compile(r"""\b(static_url|vendor_url)\(\s*['"]([^'"]+)['"]\s*\)""")


def offline_urls() -> dict[str, str]:
    """The offline page's address per language (each precached, so the worker can answer in either)."""
    return {locale: f"{OFFLINE_PATH}?lang={locale}" for locale in LOCALES}


@lru_cache(maxsize=1)
def shell_assets() -> tuple[tuple[str, str], ...]:
    """(kind, name) of every static file the offline page's templates load: ("static"|"vendor", name)."""
    found: dict[tuple[str, str], None] = {}
    for template in SHELL_TEMPLATES:
        source = env.loader.get_source(env, template)[0]  # type: ignore[union-attr]
        for call, name in _ASSET_CALL.findall(source):
            found[("static" if call == "static_url" else "vendor", name)] = None
    found[("static", NOTIFICATION_ICON)] = None
    return tuple(found)


def _asset_path(kind: str, name: str) -> Path:
    return (STATIC_DIR if kind == "static" else VENDOR_DIR) / name


def shell_urls() -> list[str]:
    # A file missing on disk (a checkout without `python -m atrium.web.assets`) is left out: one failed
    # download would fail the whole installation, and the worker with it.
    assets = [
        static_url(n) if kind == "static" else vendor_url(n)
        for kind, n in shell_assets()
        if _asset_path(kind, n).is_file()
    ]
    return [*offline_urls().values(), *assets]


@lru_cache(maxsize=1)
def _shell_version() -> str:
    digest = hashlib.sha256()
    for kind, name in shell_assets():
        path = _asset_path(kind, name)
        digest.update(f"{kind}:{name}".encode())
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    for template in ("sw.js", *SHELL_TEMPLATES):
        digest.update(env.loader.get_source(env, template)[0].encode())  # type: ignore[union-attr]
    for locale in LOCALES:  # the offline page's words
        for path in catalogue_files(locale):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    # Language per request (cookie, then Accept-Language): a browser asks again when it installs or
    # updates the app, and the installed app's name follows the person's language.
    t = translator(request)
    body = {
        "id": "/",
        "name": t("app.name_full"),
        "short_name": t("app.name"),
        "description": t("app.tagline"),
        "lang": "zh-CN" if t.locale == "zh" else "en",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f2f4f8",
        "theme_color": "#0f2f7a",
        "categories": ["finance"],
        "prefer_related_applications": False,
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
        version=_shell_version(),
        shell=shell_urls(),
        offline=offline_urls(),
        locales=list(LOCALES),
        default_locale=get_settings().default_locale,
        locale_cookie=LOCALE_COOKIE,
        app_names={locale: Translator(locale)("app.name") for locale in LOCALES},
        icon=static_url(NOTIFICATION_ICON),
        other_faces=list(OTHER_FACES),
        push_key_url=PUSH_KEY_URL,
        push_subscriptions_url=PUSH_SUBSCRIPTIONS_URL,
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
def offline(
    request: Request, lang: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    # Precached by the worker once per language (`?lang=`) and shown to anyone: no CSRF token, no
    # personal data. An unknown `lang` is only a hint that did not match: the usual negotiation applies.
    if lang in LOCALES:
        request.state.locale = lang
    response = render(
        request, OFFLINE_TEMPLATE, title=translator(request)("offline.title"), csrf_token=""
    )
    response.headers["Cache-Control"] = "no-cache"
    return finish(request, response)
