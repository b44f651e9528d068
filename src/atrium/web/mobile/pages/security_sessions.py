"""Security: the customer's signed-in devices (sign one out, or everywhere) and their sign-in history.

Both pages are tables with captions and header cells; every write is a plain form POST with the CSRF
token. Signing out the session in use (one row, or "everywhere" including this device) also clears the
cookie and goes to the sign-in page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import audit
from atrium.identity.protection import history, signins
from atrium.identity.protection.schemas import DeviceRead
from atrium.web.deps import CurrentCustomer, ReadOnlySession, end_cookie_session
from atrium.web.mobile import csrf
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
SESSIONS = "/security/sessions"
HISTORY = "/security/history"
HISTORY_PAGE = 20
NOTICES = ("one", "all")
# App names that have a local name; browsers and systems are proper names in both languages.
_APP_KEYS = {"WeChat": "wechat", "Alipay": "alipay", "Atrium app": "atrium"}


def device_label(t: Translator, device: DeviceRead, client: str = "mobile") -> str:
    browser = device.browser
    if browser in _APP_KEYS:
        browser = t(f"security.app.{_APP_KEYS[browser]}")
    if browser and device.os:
        return t("security.device.both", browser=browser, os=device.os)
    if browser or device.os:
        return browser or device.os or ""
    return t("security.device.api" if client == "api" else "security.device.unknown")


def method_label(t: Translator, method: str) -> str:
    parts = [p for p in method.split("+") if p]
    words = [t(f"security.method.{p}") if t.has(f"security.method.{p}") else p for p in parts]
    return t("security.method.joiner").join(words) or "—"


@router.get(SESSIONS)
def sessions_page(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    done: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    t = translator(request)
    listed = signins.list_signed_in(session, customer.id, current_sid=customer.sid)
    rows = [(s, device_label(t, s.device, s.client)) for s in listed.items]
    return render(
        request,
        "pages/security/sessions.html",
        title=t("security.sessions.title"),
        tab="me",
        back="/security",
        rows=rows,
        others=sum(1 for s in listed.items if not s.current),
        notice=done if done in NOTICES else None,
    )


def _signed_out_here(request: Request) -> Response:
    response = redirect(request, "/login")
    end_cookie_session(request, response)
    return response


@router.post(SESSIONS + "/{sid}/revoke", dependencies=[Depends(csrf.verify)])
def revoke_one(
    request: Request,
    sid: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")],
    customer: CurrentCustomer,
) -> Response:
    get_db().run(lambda s: signins.sign_out(s, customer.id, sid))  # another customer's sid: 404 page
    if sid == customer.sid:
        return _signed_out_here(request)
    return redirect(request, f"{SESSIONS}?done=one")


@router.post(SESSIONS + "/revoke-all", dependencies=[Depends(csrf.verify)])
def revoke_all(
    request: Request,
    customer: CurrentCustomer,
    keep_current: Annotated[str, Form(max_length=5)] = "true",
) -> Response:
    keep = keep_current != "false"
    get_db().run(
        lambda s: signins.sign_out_everywhere(s, customer.id, current_sid=customer.sid, keep_current=keep)
    )
    if not keep:
        return _signed_out_here(request)
    return redirect(request, f"{SESSIONS}?done=all")


@router.get(HISTORY)
def history_page(
    request: Request,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    t = translator(request)
    page = history.list_history(session, customer.id, cursor=cursor, limit=HISTORY_PAGE)
    rows = [(e, device_label(t, e.device), method_label(t, e.method)) for e in page.items]
    changes = audit.recent(session, customer.id) if cursor is None else []
    return render(
        request,
        "pages/security/history.html",
        title=t("security.history.title"),
        tab="me",
        back="/security",
        rows=rows,
        next_url=f"{HISTORY}?cursor={page.next_cursor}" if page.next_cursor else None,
        first_page=cursor is None,
        changes=changes,
    )
