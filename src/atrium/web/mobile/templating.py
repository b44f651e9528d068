"""Rendering pages: one Jinja2 environment, the per-request locale, display mode (`display`: standard or
elder, whose translator prefers the plain-wording overlay), CSRF token and formatting filters.

Every page response is `no-store` (it shows balances) and varies by cookie and language. Static files are
linked with a content hash (`static_url`) so browsers and the service worker can cache them for good.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from atrium.config import get_settings
from atrium.web.mobile import csrf, display
from atrium.web.mobile.i18n import LOCALE_COOKIE, LOCALE_NAMES, LOCALES, Translator, formatting, negotiate

MOBILE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = MOBILE_DIR / "templates"
STATIC_DIR = MOBILE_DIR / "static"
STATIC_PREFIX = "/static/mobile"
VENDOR_PREFIX = "/static/vendor"
VENDOR_DIR = MOBILE_DIR.parent / "static" / "vendor"

# Pages may only be framed by nobody; scripts and styles come from our own origin (htmx's injected
# indicator style is switched off in base.html, so no 'unsafe-inline' is needed).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)


@lru_cache(maxsize=256)
def _file_version(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        return "missing"


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_file_version(STATIC_DIR / name)}"


def vendor_url(name: str) -> str:
    return f"{VENDOR_PREFIX}/{name}?v={_file_version(VENDOR_DIR / name)}"


def request_locale(request: Request) -> str:
    cached = getattr(request.state, "locale", None)
    if cached is None:
        cached = negotiate(
            request.cookies.get(LOCALE_COOKIE),
            request.headers.get("accept-language"),
            get_settings().default_locale,
        )
        request.state.locale = cached
    return cached


def translator(request: Request) -> Translator:
    return Translator(request_locale(request), elder=display.is_elder(request))


def hotline_tel(number: str) -> str:
    """A `tel:` URI for a hotline written for people ("400-800-1234"): digits and a leading +."""
    return "tel:" + ("+" if number.startswith("+") else "") + "".join(ch for ch in number if ch.isdigit())


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@pass_context
def _money(ctx: Any, amount_minor: int, currency: str, signed: bool = False) -> str:
    return formatting.money(amount_minor, currency, ctx["locale"], signed=signed)


@pass_context
def _datetime(ctx: Any, value: Any) -> str:
    return formatting.datetime_short(value, ctx["locale"])


@pass_context
def _day(ctx: Any, value: Any) -> str:
    return formatting.day(value, ctx["locale"])


@pass_context
def _day_long(ctx: Any, value: Any) -> str:
    return formatting.day_long(value, ctx["locale"])


@pass_context
def _time(ctx: Any, value: Any) -> str:
    return formatting.time_of_day(value, ctx["locale"])


@pass_context
def _percent(ctx: Any, value: float) -> str:
    return formatting.percent(value, ctx["locale"])


def _build_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,  # a misspelt variable fails the page test, not the customer silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=_money,
        dt=_datetime,
        day=_day,
        day_long=_day_long,
        time=_time,
        percent=_percent,
        plain_amount=formatting.amount_plain,
    )
    env.globals.update(
        static_url=static_url,
        vendor_url=vendor_url,
        LOCALES=LOCALES,
        LOCALE_NAMES=LOCALE_NAMES,
        currency_symbol=formatting.currency_symbol,
    )
    return env


env = _build_env()


class NavTab(dict[str, str]):
    """One bottom tab: key, href, icon (macros.html's icon names) and label (already translated)."""


# Elder mode shows fewer tabs: limits stay one tap away on the settings page.
_ELDER_TABS = frozenset({"home", "transfer", "scan", "me"})


def default_tabs(locale: str, ui_mode: str = display.STANDARD) -> list[NavTab]:
    """The tabs a page shows when the shell has not chosen them (signed-out pages, errors)."""
    elder = ui_mode == display.ELDER
    t = Translator(locale, elder=elder)
    return [
        NavTab(key=key, href=href, icon=ico, label=t(f"nav.{key}"))
        for key, href, ico in (
            ("home", "/", "home"),
            ("transfer", "/transfer", "transfer"),
            ("scan", "/pay/qr", "scan"),
            ("limits", "/limits", "shield"),
            ("me", "/settings", "user"),
        )
        if not elder or key in _ELDER_TABS
    ]


def render_text(request: Request, template: str, **context: Any) -> str:
    locale = request_locale(request)
    ui_mode = display.resolve(request)
    hotline = get_settings().support.hotline
    context.setdefault("csrf_token", csrf.token_for(request))
    base = {
        "request": request,
        "locale": locale,
        "t": Translator(locale, elder=ui_mode == display.ELDER),
        "path": request.url.path,
        "htmx": is_htmx(request),
        "tab": None,
        "back": None,
        "announce": False,
        "csrf_field": csrf.CSRF_FIELD,
        "csrf_header": csrf.CSRF_HEADER,
        # The signed-in session's bound device: device.js remembers its id beside this browser's key.
        "session_device_id": getattr(getattr(request.state, "principal", None), "device_id", None),
        # Development: texts go to the outbox page (/dev/sms) instead of phones; pages that ask for a code
        # point there.
        "dev_outbox": get_settings().env != "production" and get_settings().notify.sms_sender == "outbox",
        # The person's display mode ("standard" | "elder"), resolved once per request (display.resolve).
        "ui_mode": ui_mode,
        # A person to call: elder mode keeps the hotline one tap away in the app bar; settings shows it.
        "hotline": hotline,
        "hotline_href": hotline_tel(hotline),
        # The bottom tabs, set on request.state by the app shell (from the catalogue) for signed-in pages.
        "nav_tabs": getattr(request.state, "nav_tabs", None) or default_tabs(locale, ui_mode),
    }
    base.update(context)
    return env.get_template(template).render(base)


def finish(request: Request, response: Response) -> Response:
    """Headers every page response carries."""
    csrf.ensure_cookie(request, response)
    display.sync_cookie(request, response)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Vary", "Cookie, Accept-Language, HX-Request")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    return response


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    response = HTMLResponse(
        render_text(request, template, **context), status_code=status_code, headers=headers
    )
    finish(request, response)
    return response


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: refuse absolute and protocol-relative URLs (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(ch) < 32 for ch in value):
        return default
    return value


def redirect(request: Request, url: str) -> Response:
    """A 303 after a form post; for htmx requests, HX-Redirect (fetch would follow a 303 silently)."""
    if is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    return finish(request, response)
