"""Rendering console pages: the console's own Jinja2 environment and templates, on the mobile app's
request locale, CSRF token, response headers (no-store, CSP, …) and Babel formatting filters.

The console's static files (`/static/staff/…`) are linked with a content hash, like the mobile app's.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from atrium.staff.service import DEFAULT_REASON
from atrium.web.mobile import csrf
from atrium.web.mobile import templating as mobile
from atrium.web.mobile.i18n import LOCALE_NAMES, LOCALES
from atrium.web.mobile.templating import finish, is_htmx, request_locale, vendor_url
from atrium.web.staff.i18n import StaffTranslator

STAFF_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = STAFF_DIR / "templates"
STATIC_DIR = STAFF_DIR / "static"
STATIC_PREFIX = "/static/staff"


@lru_cache(maxsize=64)
def _version(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        return "missing"


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_version(STATIC_DIR / name)}"


def translator(request: Request) -> StaffTranslator:
    return StaffTranslator(request_locale(request))


def _build_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,  # a misspelt variable fails the page test, not the staff member silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The mobile app's filters (money, dt, day, …) format through Babel in the page's locale.
    env.filters.update(mobile.env.filters)
    env.globals.update(
        static_url=static_url,
        vendor_url=vendor_url,
        LOCALES=LOCALES,
        LOCALE_NAMES=LOCALE_NAMES,
        DEFAULT_REASON=DEFAULT_REASON,
    )
    return env


env = _build_env()


def render_text(request: Request, template: str, **context: Any) -> str:
    locale = request_locale(request)
    context.setdefault("csrf_token", csrf.token_for(request))
    # Set by `routing.permit` once the staff member is known: the layout shows them and their menu.
    me = getattr(request.state, "console_user", None)
    base: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "t": StaffTranslator(locale),
        "path": request.url.path,
        "htmx": is_htmx(request),
        "csrf_field": csrf.CSRF_FIELD,
        "csrf_header": csrf.CSRF_HEADER,
        "me": me,
        "can": me.can if me is not None else frozenset(),
        "nav": None,
    }
    base.update(context)
    return env.get_template(template).render(base)


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(render_text(request, template, **context), status_code=status_code)
    finish(request, response)
    return response
