"""The step-up challenge's own form posts: send the SMS code, check a code. The challenge page itself is
rendered by `stepup_view` when a use case raises StepUpRequired."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import stepup
from atrium.identity.otp.errors import InvalidCode, TooManyCodes
from atrium.identity.tickets import TicketInvalid
from atrium.kit.errors import Conflict, ValidationFailed
from atrium.web.deps import CurrentCustomer, attempt_credential
from atrium.web.mobile import csrf, stepup_view
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import request_locale

router = APIRouter(route_class=PageRoute)
Challenge = Annotated[str, Form(max_length=4000)]
ReturnTo = Annotated[str, Form(max_length=500)]


def _again(
    request: Request,
    form: dict[str, str],
    challenge: stepup.Challenge,
    token: str,
    return_to: str,
    **context: object,
) -> Response:
    context.setdefault("status_code", 200)
    return stepup_view.challenge_page(
        request,
        challenge=token,
        action=challenge.action,
        methods=list(challenge.methods),
        summary=challenge.summary,
        return_to=return_to,
        fields=stepup_view.unprefixed(form),
        reasons=challenge.reasons,
        **context,  # type: ignore[arg-type]
    )


@router.get("/step-up")
def challenge(
    request: Request, customer: CurrentCustomer, challenge: str = "", return_to: str = "/"
) -> Response:
    """The challenge page for an htmx action that needed a step-up (its fields come in the query)."""
    try:
        read = stepup.read_challenge(customer, challenge)
    except TicketInvalid:
        return _expired(request)
    return _again(request, dict(request.query_params), read, challenge, return_to, status_code=200)


@router.post("/step-up/send", dependencies=[Depends(csrf.verify)])
async def send_code(
    request: Request, customer: CurrentCustomer, challenge: Challenge = "", return_to: ReturnTo = "/"
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        read = stepup.read_challenge(customer, challenge)
    except TicketInvalid:
        return _expired(request)
    locale = request_locale(request)
    try:
        get_db().run(lambda s: stepup.send_sms(s, customer, challenge, locale=locale))
    except TooManyCodes:
        return _again(
            request, form, read, challenge, return_to, error="stepup.error.too_many", status_code=429
        )
    return _again(request, form, read, challenge, return_to, code_sent=True)


@router.post("/step-up/verify", dependencies=[Depends(csrf.verify)])
async def verify(
    request: Request,
    customer: CurrentCustomer,
    challenge: Challenge = "",
    return_to: ReturnTo = "/",
    method: Annotated[str, Form(max_length=8)] = "sms",
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        read = stepup.read_challenge(customer, challenge)
    except TicketInvalid:
        return _expired(request)
    code = code.strip()
    if method not in ("sms", "otp") or not (code.isdigit() and len(code) == 6):
        return _again(
            request,
            form,
            read,
            challenge,
            return_to,
            error="stepup.error.code",
            code_sent=method == "sms",
            status_code=422,
        )
    try:
        attempt_credential(
            lambda: get_db().run(lambda s: stepup.complete(s, customer, challenge, method=method, code=code))
        )
    except (InvalidCode, ValidationFailed):
        return _again(
            request,
            form,
            read,
            challenge,
            return_to,
            error="stepup.error.code",
            code_sent=method == "sms",
            status_code=401,
        )
    except Conflict:
        return _again(request, form, read, challenge, return_to, error="stepup.error.used", status_code=409)
    return _again(request, form, read, challenge, return_to, done=True, status_code=200)


def _expired(request: Request) -> Response:
    return stepup_view.challenge_page(
        request,
        challenge="",
        action="",
        methods=[],
        summary="",
        return_to="/",
        fields={},
        error="stepup.error.expired",
        status_code=401,
    )
