"""Open an account: phone → SMS code → details (KYC, username, password with live policy feedback) → done.

Each step posts to the server and gets the next step back; the proven phone travels as the registration
ticket (sealed, signed, 15 minutes), never as a trusted form value. The last step creates the customer,
opens their first CNY current account and signs them in (SMS + password: level 2) in one transaction, so
a customer never exists without an account. A number that is registered already gets the same "code sent"
answer here (its owner gets a warning text instead of a code).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.db.runtime import get_db
from atrium.identity import kyc, password_policy, registration, sessions
from atrium.identity.errors import PhoneTaken, UsernameTaken
from atrium.identity.otp.errors import InvalidCode
from atrium.identity.principal import Principal
from atrium.identity.tickets import TicketInvalid
from atrium.kit.errors import RateLimited
from atrium.web.deps import (
    CurrentCustomer,
    ReadOnlySession,
    attempt_credential,
    client_info,
    session_principal,
    set_session_cookie,
    throttle_address,
)
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
Text = Annotated[str, Form(max_length=300)]
CODE_LIMIT, VERIFY_LIMIT = 10, 30  # per address and five minutes, as the API's
STEPS = ("phone", "code", "details")
DETAIL_FIELDS = ("legal_name", "id_number", "email", "address", "username", "display_name", "password")


def _step(request: Request, step: str, *, status_code: int = 200, **context: Any) -> Response:
    t = translator(request)
    context.setdefault("notice", None)
    context.setdefault("sent", False)
    context.setdefault("errors", {})
    return render(
        request, f"pages/register/{step}.html", status_code=status_code, title=t("register.title"),
        step=step, step_no=STEPS.index(step) + 1, steps=len(STEPS), **context,
    )


def _wait_text(request: Request, exc: RateLimited) -> str:
    return translator(request)("register.error.too_many", seconds=int(exc.extra.get("retry_after", 60)))


@router.get("/register")
def register_page(request: Request) -> Response:
    principal = session_principal(request)
    if principal is not None and principal.kind == "customer":
        return redirect(request, "/")
    return _step(request, "phone", phone="")


def _code_step(request: Request, phone: str, *, status_code: int = 200, **context: Any) -> Response:
    return _step(
        request, "code", status_code=status_code, phone=phone, phone_masked=kyc.MASKS["phone"](phone),
        **context,
    )


@router.post("/register/phone", dependencies=[Depends(csrf.verify)])
def send_code(request: Request, phone: Text = "", resend: Text = "") -> Response:
    """Step 1 (and "send a new code" on step 2)."""
    t = translator(request)
    try:
        number = kyc.normalise_phone(phone)
    except kyc.InvalidKyc:
        return _step(request, "phone", status_code=422, phone=phone,
                     errors={"phone": t("register.error.phone.format")})
    try:
        throttle_address(request, "code", limit=CODE_LIMIT)
        get_db().run(lambda s: registration.start(s, phone=number, locale=t.locale))
    except RateLimited as exc:  # too many codes for the number, or from this address
        if resend:
            return _code_step(request, number, status_code=429, notice=_wait_text(request, exc))
        return _step(request, "phone", status_code=429, phone=phone, notice=_wait_text(request, exc))
    return _code_step(request, number, sent=True)


@router.post("/register/code", dependencies=[Depends(csrf.verify)])
def check_code(request: Request, phone: Text = "", code: Text = "") -> Response:
    """Step 2: the code proves the phone; the details step gets the ticket."""
    t = translator(request)
    try:
        number = kyc.normalise_phone(phone)
    except kyc.InvalidKyc:
        return _step(request, "phone", status_code=422, phone="", notice=t("register.error.restart"))
    code = code.strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return _code_step(request, number, status_code=422, errors={"code": t("register.error.code_format")})
    try:
        throttle_address(request, "register-verify", limit=VERIFY_LIMIT)
        ticket = attempt_credential(
            lambda: get_db().run(lambda s: registration.verify_phone(s, phone=number, code=code)))
    except InvalidCode:
        return _code_step(request, number, status_code=401, errors={"code": t("register.error.code")})
    except RateLimited as exc:
        return _code_step(request, number, status_code=429, notice=_wait_text(request, exc))
    return _details_step(request, ticket=ticket, values={})


def _details_step(
    request: Request, *, ticket: str, values: dict[str, str], status_code: int = 200, **context: Any
) -> Response:
    return _step(
        request, "details", status_code=status_code, ticket=ticket, values=values,
        password_rules=password_policy.MIN_LENGTH, **context,
    )


def _field_errors(request: Request, errors: dict[str, list[str]]) -> dict[str, str]:
    t = translator(request)
    out: dict[str, str] = {}
    for name, codes in errors.items():
        if name == "password":
            out[name] = " ".join(password_policy.describe(c, t.locale) for c in codes)
        else:
            key = f"register.error.{name}.{codes[0]}"
            out[name] = t(key) if t.has(key) else t("register.error.invalid")
    return out


@router.post("/register/password-check", dependencies=[Depends(csrf.verify)])
def password_check(
    request: Request, ticket: Annotated[str, Form(max_length=2000)] = "", password: Text = "",
    username: Text = "", legal_name: Text = "", id_number: Text = "", email: Text = "",
) -> Response:
    """Live feedback on the password (htmx, as the customer types): which rules it does not meet yet."""
    try:
        phone: str | None = registration.phone_of_ticket(ticket)
    except TicketInvalid:
        phone = None
    personal = [w for w in (legal_name.strip(), id_number.strip(), email.split("@")[0].strip()) if w]
    if len(id_number.strip()) == 18:
        personal.append(id_number.strip()[6:14])
    if phone:
        personal.append(phone)
    violations = (
        password_policy.check(password, username=username.strip(), personal=personal) if password else []
    )
    t = translator(request)
    return render(
        request, "pages/register/password_rules.html", typed=bool(password),
        problems=[password_policy.describe(v, t.locale) for v in violations],
        password_rules=password_policy.MIN_LENGTH,
    )


def _create(
    session: Session, *, ticket: str, details: registration.Details, locale: str, ip: str, user_agent: str
) -> tuple[str, Principal]:
    done = registration.complete(session, ticket=ticket, details=details, locale=locale, channel="mobile")
    accounts.open_account(session, customer_id=done.customer_id, product="current", currency="CNY")
    return sessions.open_session(
        session, customer_id=done.customer_id, amr=["sms", "pwd"], ip=ip, user_agent=user_agent,
        client="mobile", identity_id=done.identity_id,
    )


@router.post("/register/details", dependencies=[Depends(csrf.verify)])
def submit_details(
    request: Request, ticket: Annotated[str, Form(max_length=2000)] = "", legal_name: Text = "",
    id_number: Text = "", email: Text = "", address: Text = "", username: Text = "", display_name: Text = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Step 3: create the customer and their first account, sign them in."""
    t = translator(request)
    values = {"legal_name": legal_name, "id_number": id_number, "email": email, "address": address,
              "username": username, "display_name": display_name}
    details = registration.Details(
        username=username.strip(), password=password, legal_name=legal_name, id_number=id_number,
        email=email, address=address, display_name=display_name,
    )
    client = client_info(request)
    try:
        token, _ = get_db().run(lambda s: _create(
            s, ticket=ticket, details=details, locale=t.locale, ip=client.ip, user_agent=client.user_agent
        ))
    except TicketInvalid:
        return _step(request, "phone", status_code=401, phone="", notice=t("register.error.expired"))
    except registration.RegistrationInvalid as exc:
        return _details_step(request, ticket=ticket, values=values, status_code=422,
                             errors=_field_errors(request, exc.errors))
    except UsernameTaken:
        return _details_step(request, ticket=ticket, values=values, status_code=409,
                             errors={"username": t("register.error.username.taken")})
    except PhoneTaken:
        return _step(request, "phone", status_code=409, phone="", notice=t("register.error.phone.taken"))
    response = redirect(request, "/register/done")
    set_session_cookie(response, token)
    return response


@router.get("/register/done")
def done_page(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    opened = [a for a in accounts.list_for_customer(session, customer.id) if a.status == "open"]
    return render(
        request, "pages/register/done.html", title=translator(request)("register.done.title"),
        account=opened[0] if opened else None,
    )
