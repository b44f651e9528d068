"""Sign in and sign out: password (then a second factor unless this device is trusted), an SMS code, or a
passkey (`partials/passkey_login.html`, driven by passkeys.js against the API).

Every sign-in form carries the device fields device.js fills in: a bound device signs the server's
nonce (a trusted device skips the second factor); a new one offers its public key, bound once the second
factor succeeds. Refused attempts are recorded in their own transaction (lockout, login history).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import kyc, login
from atrium.identity.devices import service as devices
from atrium.identity.errors import InvalidCredentials
from atrium.identity.otp.errors import InvalidCode, TooManyCodes
from atrium.identity.protection.errors import AccountLocked, RateLimited
from atrium.identity.tickets import TicketInvalid
from atrium.web.deps import (
    attempt_credential,
    client_info,
    end_cookie_session,
    read,
    session_principal,
    set_session_cookie,
    throttle_codes,
    throttle_sign_in,
)
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, safe_next, translator

router = APIRouter(route_class=PageRoute)
Field = Annotated[str, Form(max_length=600)]


def _page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    context.setdefault("error_params", {})
    return render(
        request,
        template,
        status_code=status_code,
        title=translator(request)("login.title"),
        device_nonce=devices.login_nonce(),
        **context,
    )


def _form(
    request: Request, *, next_url: str, method: str = "password", status_code: int = 200, **context: Any
) -> Response:
    context.setdefault("username", "")
    context.setdefault("phone", "")
    context.setdefault("code_sent", False)
    return _page(
        request, "pages/login.html", status_code=status_code, next=next_url, method=method, **context
    )


def _client(
    request: Request, device_id: str, device_public_key: str, device_signature: str, device_nonce: str
) -> login.Client:
    base = client_info(request)
    return login.Client(
        ip=base.ip,
        user_agent=base.user_agent,
        client="mobile",
        device_id=device_id or None,
        device_nonce=device_nonce or None,
        device_signature=device_signature or None,
        device_public_key=device_public_key or None,
    )



def _refusal(exc: Exception) -> tuple[int, str, dict[str, Any]]:
    if isinstance(exc, AccountLocked):
        until = exc.extra.get("locked_until")
        return 423, ("login.error.locked_until" if until else "login.error.locked"), {"until": until or ""}
    if isinstance(exc, RateLimited | TooManyCodes):
        return 429, "login.error.too_many", {}
    if isinstance(exc, InvalidCode):
        return 401, "login.error.code", {}
    if isinstance(exc, TicketInvalid):
        return 401, "login.error.expired", {}
    return 401, "login.error.invalid", {}


REFUSED = (InvalidCredentials, InvalidCode, AccountLocked, RateLimited, TooManyCodes, TicketInvalid)


def _signed_in(request: Request, outcome: login.SignedIn, target: str) -> Response:
    response = redirect(request, target)
    set_session_cookie(response, outcome.token)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None, method: str = "password") -> Response:  # noqa: A002
    principal = session_principal(request)
    if principal is not None and principal.kind == "customer":
        return redirect(request, safe_next(next))
    return _form(request, next_url=safe_next(next), method="sms" if method == "sms" else "password")


@router.post("/login", dependencies=[Depends(csrf.verify)])
def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002 - the form field's name
    device_id: Field = "",
    device_public_key: Field = "",
    device_signature: Field = "",
    device_nonce: Field = "",
) -> Response:
    target = safe_next(next)
    if not username.strip() or not password:
        return _form(
            request, status_code=422, next_url=target, username=username, error="login.error.missing"
        )
    client = _client(request, device_id, device_public_key, device_signature, device_nonce)
    name = username.strip()
    try:
        throttle_sign_in(request, name)
        checked = attempt_credential(
            lambda: read(lambda s: login.check_password(s, username=name, password=password)),
            lambda: get_db().run(
                lambda s: login.record_failure(s, username=name, method="pwd", client=client)
            ),
        )
        outcome = get_db().run(lambda s: login.with_password(s, checked=checked, client=client))
    except REFUSED as exc:
        status, error, params = _refusal(exc)
        return _form(
            request, status_code=status, next_url=target, username=username, error=error, error_params=params
        )
    if isinstance(outcome, login.SecondFactorNeeded):
        return _verify_page(request, outcome.ticket, outcome.methods, outcome.phone_masked, target)
    return _signed_in(request, outcome, target)


def _verify_page(
    request: Request,
    ticket: str,
    methods: tuple[str, ...] | list[str],
    phone_masked: str | None,
    target: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("code_sent", False)
    return _page(
        request,
        "pages/login_verify.html",
        status_code=status_code,
        ticket=ticket,
        methods=list(methods),
        phone_masked=phone_masked or "",
        next=target,
        **context,
    )


@router.post("/login/verify/send", dependencies=[Depends(csrf.verify)])
def login_verify_send(
    request: Request,
    ticket: Annotated[str, Form(max_length=2000)] = "",
    methods: Annotated[str, Form(max_length=40)] = "",
    phone_masked: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002
) -> Response:
    target, offered = safe_next(next), [m for m in methods.split(",") if m in ("sms", "otp")]
    try:
        throttle_codes(request)
        get_db().run(lambda s: login.send_second_factor_code(s, ticket=ticket))
    except REFUSED as exc:
        status, error, params = _refusal(exc)
        if isinstance(exc, TicketInvalid):
            return _form(request, status_code=status, next_url=target, error=error)
        return _verify_page(
            request,
            ticket,
            offered,
            phone_masked,
            target,
            status_code=status,
            error=error,
            error_params=params,
        )
    return _verify_page(request, ticket, offered, phone_masked, target, code_sent=True)


@router.post("/login/verify", dependencies=[Depends(csrf.verify)])
def login_verify(
    request: Request,
    ticket: Annotated[str, Form(max_length=2000)] = "",
    method: Annotated[str, Form(max_length=8)] = "sms",
    code: Annotated[str, Form(max_length=12)] = "",
    methods: Annotated[str, Form(max_length=40)] = "",
    phone_masked: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002
) -> Response:
    target, offered = safe_next(next), [m for m in methods.split(",") if m in ("sms", "otp")]
    code = code.strip()
    if method not in offered or not (code.isdigit() and len(code) == 6):
        return _verify_page(
            request,
            ticket,
            offered,
            phone_masked,
            target,
            status_code=422,
            error="login.error.code_format",
            code_sent=method == "sms",
        )
    client = client_info(request)
    subject = login.ticket_subject(ticket)
    try:
        throttle_sign_in(request)
        outcome = attempt_credential(
            lambda: get_db().run(
                lambda s: login.complete_second_factor(
                    s, ticket=ticket, method=method, code=code, client=client
                )
            ),
            lambda: (
                get_db().run(
                    lambda s: login.record_failure(s, customer_id=subject, method=method, client=client)
                )
                if subject
                else None
            ),
        )
    except REFUSED as exc:
        status, error, params = _refusal(exc)
        if isinstance(exc, TicketInvalid | AccountLocked):
            return _form(request, status_code=status, next_url=target, error=error, error_params=params)
        return _verify_page(
            request,
            ticket,
            offered,
            phone_masked,
            target,
            status_code=status,
            error=error,
            error_params=params,
            code_sent=method == "sms",
        )
    return _signed_in(request, outcome, target)


@router.post("/login/sms/send", dependencies=[Depends(csrf.verify)])
def sms_send(
    request: Request,
    phone: Annotated[str, Form(max_length=24)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:  # noqa: A002
    target = safe_next(next)
    try:
        e164 = kyc.normalise_phone(phone)
    except kyc.InvalidKyc:
        return _form(
            request, method="sms", status_code=422, next_url=target, phone=phone, error="login.error.phone"
        )
    try:
        throttle_codes(request)
        get_db().run(lambda s: login.send_sms_login_code(s, phone=e164))
    except REFUSED as exc:
        status, error, params = _refusal(exc)
        return _form(request, method="sms", status_code=status, next_url=target, phone=phone, error=error)
    return _form(request, method="sms", next_url=target, phone=phone, code_sent=True)


@router.post("/login/sms", dependencies=[Depends(csrf.verify)])
def sms_submit(
    request: Request,
    phone: Annotated[str, Form(max_length=24)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",  # noqa: A002
    device_id: Field = "",
    device_public_key: Field = "",
    device_signature: Field = "",
    device_nonce: Field = "",
) -> Response:
    target = safe_next(next)
    try:
        e164 = kyc.normalise_phone(phone)
    except kyc.InvalidKyc:
        return _form(
            request, method="sms", status_code=422, next_url=target, phone=phone, error="login.error.phone"
        )
    client = _client(request, device_id, device_public_key, device_signature, device_nonce)
    try:
        throttle_sign_in(request, e164)
        outcome = attempt_credential(
            lambda: get_db().run(
                lambda s: login.with_sms_code(s, phone=e164, code=code.strip(), client=client)
            ),
            lambda: get_db().run(lambda s: login.record_failure(s, phone=e164, method="sms", client=client)),
        )
    except REFUSED as exc:
        status, error, params = _refusal(exc)
        return _form(
            request,
            method="sms",
            status_code=status,
            next_url=target,
            phone=phone,
            code_sent=True,
            error=error,
            error_params=params,
        )
    return _signed_in(request, outcome, target)


@router.post("/logout", dependencies=[Depends(csrf.verify)])
def logout(request: Request) -> Response:
    response = redirect(request, "/login")
    end_cookie_session(request, response)
    return response
