"""Security centre: the authenticator app (TOTP) — set it up with a QR code and a first code, see whether
it is on, remove it.

Adding one needs a multi-factor session ("totp.add", level 2: a password-only session must not mint its
own second factor); removing it needs a level-3 grant ("totp.remove"). Both go through the step-up page
(`stepup_view`) when StepUpRequired is raised, which posts the form again with `step_up`.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from atrium.db.runtime import get_db
from atrium.identity import service, stepup
from atrium.identity.otp import totp
from atrium.identity.otp.errors import InvalidCode, TotpAlreadyEnrolled, TotpNotEnrolled, TotpNotEnrolling
from atrium.identity.principal import Principal
from atrium.web.deps import CurrentCustomer
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
PAGE = "/security/totp"
StepUp = Annotated[str, Form(max_length=4096)]


def _label(session, principal: Principal) -> str:  # type: ignore[no-untyped-def]
    customer = service.get_customer(session, principal.id)
    return customer.username if customer is not None else principal.id


def _state(principal: Principal) -> dict[str, Any]:
    with get_db().read_session() as s:
        if totp.is_enrolled(s, principal.id):
            return {"state": "on"}
        pending = totp.pending_enrolment(s, principal.id, _label(s, principal))
    if pending is None:
        return {"state": "off"}
    secret, uri = pending
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    # segno's SVG: generated here from our own URI, nothing of the request in it as text.
    return {"state": "pending", "secret": grouped, "qr": Markup(totp.qr_svg(uri))}  # noqa: S704


def _page(request: Request, principal: Principal, *, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("errors", {})
    context.setdefault("done", "")
    return render(request, "pages/security/totp.html", status_code=status_code,
                  title=translator(request)("security.totp.title"), tab="me", back="/settings",
                  **_state(principal), **context)


@router.get(PAGE)
def totp_page(
    request: Request, customer: CurrentCustomer, done: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    return _page(request, customer, done=done if done in ("on", "removed") else "")


@router.post(f"{PAGE}/enrolment", dependencies=[Depends(csrf.verify)])
def start_enrolment(request: Request, customer: CurrentCustomer, step_up: StepUp = "") -> Response:
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, customer, action="totp.add", elements={}, token=step_up or None)
        totp.begin_enrolment(s, customer.id, _label(s, customer))

    with suppress(TotpAlreadyEnrolled):  # a second tab: the page shows it is on
        get_db().run(work)
    return redirect(request, PAGE)


@router.post(f"{PAGE}/confirm", dependencies=[Depends(csrf.verify)])
def confirm_enrolment(
    request: Request, customer: CurrentCustomer, code: Annotated[str, Form(max_length=12)] = "",
    step_up: StepUp = "",
) -> Response:
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, customer, action="totp.add", elements={}, token=step_up or None)
        totp.confirm_enrolment(s, customer.id, code.strip())

    try:
        get_db().run(work)
    except InvalidCode:
        return _page(request, customer, status_code=422, errors={"confirm": "security.totp.error.code"})
    except TotpNotEnrolling:
        return _page(request, customer, status_code=409, errors={"confirm": "security.totp.error.expired"})
    return redirect(request, f"{PAGE}?done=on")


@router.post(f"{PAGE}/remove", dependencies=[Depends(csrf.verify)])
def remove(request: Request, customer: CurrentCustomer, step_up: StepUp = "") -> Response:
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, customer, action="totp.remove", elements={}, token=step_up or None)
        totp.remove(s, customer.id)

    try:
        get_db().run(work)
    except TotpNotEnrolled:
        return redirect(request, PAGE)
    return redirect(request, f"{PAGE}?done=removed")
