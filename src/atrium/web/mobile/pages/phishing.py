"""Is this really Atrium Bank? A public page: paste an SMS, a link or a phone number and see whether it is
the bank's (`atrium.antiphishing`). The form posts (CSRF-protected, rate limited per address) and the
same page shows the verdict — in words and an icon, never colour alone — in a `role=status` region."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium.antiphishing import service as phishing
from atrium.antiphishing.domain import MAX_TEXT
from atrium.antiphishing.schemas import CheckResult
from atrium.db.runtime import get_db
from atrium.kit.errors import RateLimited
from atrium.web.deps import client_info
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, request_locale, translator

router = APIRouter(route_class=PageRoute)
PATH = "/phishing-check"
# Verdict → (icon, tone of the result mark and badges). The verdict's words always stand beside them.
LOOKS = {"genuine": ("check", "ok"), "suspicious": ("alert", "error"), "unknown": ("info", "info")}


def _page(
    request: Request, *, status_code: int = 200, text: str = "", result: CheckResult | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "pages/phishing.html",
        status_code=status_code,
        title=translator(request)("phishing.title"),
        back="/login",
        text=text,
        result=result,
        error=error,
        looks=LOOKS,
        max_length=MAX_TEXT,
    )


@router.get(PATH)
def phishing_form(request: Request) -> Response:
    return _page(request)


@router.post(PATH, dependencies=[Depends(csrf.verify)])
def phishing_check(request: Request, text: Annotated[str, Form(max_length=4 * MAX_TEXT)] = "") -> Response:
    t = translator(request)
    if not text.strip():
        return _page(request, status_code=422, text=text, error=t("phishing.error.empty"))
    if len(text) > MAX_TEXT:
        return _page(request, status_code=422, text=text[:MAX_TEXT],
                     error=t("phishing.error.too_long", max=MAX_TEXT))
    ip = client_info(request).ip
    try:
        get_db().run(lambda s: phishing.count_check(s, ip=ip))
    except RateLimited as exc:
        wait = int(exc.extra.get("retry_after", 60))
        error = t("phishing.error.rate_limited", seconds=wait)
        return _page(request, status_code=429, text=text, error=error)
    with get_db().read_session() as session:
        result = phishing.check(session, text, locale=request_locale(request))
    return _page(request, text=text, result=result)
