"""Rendering Atrium Life's pages: its own templates, stylesheet and words, on the mobile app's request
locale, CSRF token and response headers (no-store, CSP, …)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from atrium.web.life.i18n import LifeTranslator
from atrium.web.mobile import csrf
from atrium.web.mobile.i18n import LOCALE_NAMES, LOCALES
from atrium.web.mobile.templating import finish, request_locale
from atrium.web.mobile.templating import static_url as mobile_static_url

LIFE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = LIFE_DIR / "templates"
STATIC_DIR = LIFE_DIR / "static"
STATIC_PREFIX = "/static/life"


@lru_cache(maxsize=16)
def _version(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        return "missing"


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_version(STATIC_DIR / name)}"


def translator(request: Request) -> LifeTranslator:
    return LifeTranslator(request_locale(request))


env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html", "xml"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(
    static_url=static_url,
    icons_url=lambda: mobile_static_url("icons.svg"),
    LOCALES=LOCALES,
    LOCALE_NAMES=LOCALE_NAMES,
)


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = request_locale(request)
    base: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "t": LifeTranslator(locale),
        "csrf_token": csrf.token_for(request),
        "csrf_field": csrf.CSRF_FIELD,
        "me": None,
    }
    base.update(context)
    response = HTMLResponse(env.get_template(template).render(base), status_code=status_code)
    return finish(request, response)  # type: ignore[return-value]
