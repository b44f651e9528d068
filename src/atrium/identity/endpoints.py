"""/auth: sign in (password, then a second factor unless the device is trusted; or an SMS code), sign
out, who am I, and completing a step-up challenge. Passkey sign-in lives in `identity.passkeys`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.identity import login, service, sessions, stepup
from atrium.identity.errors import SessionExpired
from atrium.identity.otp import service as otp
from atrium.identity.passkeys.endpoints import relying_party
from atrium.identity.schemas import (
    CodeSent,
    CustomerRead,
    DeviceProof,
    LoginRequest,
    PhoneRequest,
    SecondFactorRequest,
    SessionRead,
    SmsLoginRequest,
    StaffRead,
    StepUpCompletion,
    StepUpDone,
    StepUpRequest,
    TicketRequest,
)
from atrium.kit import clock
from atrium.web.deps import (
    SESSION_COOKIE,
    CurrentCustomer,
    CurrentPrincipal,
    ReadOnlySession,
    WriteSession,
    attempt_credential,
    client_info,
    read,
    set_session_cookie,
    throttle_codes,
    throttle_sign_in,
)

router = APIRouter(prefix="/auth", tags=["auth"])


def _client(request: Request, device: DeviceProof | None, client: str = "api") -> login.Client:
    base = client_info(request)
    d = device or DeviceProof()
    return login.Client(
        ip=base.ip,
        user_agent=base.user_agent,
        client=client,
        device_id=d.device_id,
        device_nonce=d.nonce,
        device_signature=d.signature,
        device_public_key=d.public_key,
    )


def _answer(outcome: login.Outcome, response: Response) -> SessionRead:
    if isinstance(outcome, login.SecondFactorNeeded):
        return SessionRead(
            status="second-factor-required",
            ticket=outcome.ticket,
            methods=list(outcome.methods),
            phone_masked=outcome.phone_masked,
        )
    p = outcome.principal
    set_session_cookie(response, outcome.token)
    return SessionRead(
        token=outcome.token,
        expires_in=get_settings().security.session_ttl_s,
        subject_kind=p.kind,
        subject_id=p.id,
        loa=p.loa,  # type: ignore[arg-type]
        acr=sessions.acr_of(p.loa),
        device_id=outcome.device_id,
    )


def _sent(issued: otp.IssuedCode) -> CodeSent:
    now = clock.now()
    return CodeSent(
        expires_in=max(0, int((issued.expires_at - now).total_seconds())),
        resend_after=max(0, int((issued.resend_at - now).total_seconds())),
    )


@router.post("/login", response_model=SessionRead, response_model_exclude_none=True)
def sign_in(body: LoginRequest, request: Request, response: Response) -> SessionRead:
    """Password sign-in. A customer on a trusted device is signed in at level 2; otherwise the answer is
    `second-factor-required` with a ticket for POST /auth/login/second-factor. Staff: password only."""
    throttle_sign_in(request, body.username)
    client = _client(request, body.device)
    username = body.username.strip()
    if body.kind == "staff":
        outcome: login.Outcome = get_db().run(
            lambda s: login.staff_with_password(s, username=username, password=body.password, client=client)
        )
        return _answer(outcome, response)
    checked = attempt_credential(
        lambda: read(lambda s: login.check_password(s, username=username, password=body.password)),
        lambda: get_db().run(
            lambda s: login.record_failure(s, username=username, method="pwd", client=client)
        ),
    )
    outcome = get_db().run(lambda s: login.with_password(s, checked=checked, client=client))
    return _answer(outcome, response)


@router.post("/login/second-factor/sms", response_model=CodeSent)
def send_second_factor_code(body: TicketRequest, request: Request) -> CodeSent:
    """Send the sign-in code to the phone on file (the ticket says whose)."""
    throttle_codes(request)
    issued = get_db().run(lambda s: login.send_second_factor_code(s, ticket=body.ticket))
    return _sent(issued)


@router.post("/login/second-factor", response_model=SessionRead, response_model_exclude_none=True)
def second_factor(body: SecondFactorRequest, request: Request, response: Response) -> SessionRead:
    throttle_sign_in(request)
    client = _client(request, None)

    def failed() -> None:
        subject = login.ticket_subject(body.ticket)
        if subject is not None:
            get_db().run(
                lambda s: login.record_failure(s, customer_id=subject, method=body.method, client=client)
            )

    outcome = attempt_credential(
        lambda: get_db().run(
            lambda s: login.complete_second_factor(
                s, ticket=body.ticket, method=body.method, code=body.code, client=client
            )
        ),
        failed,
    )
    return _answer(outcome, response)


@router.post("/sms-login/send", response_model=CodeSent, status_code=202)
def send_sms_login_code(body: PhoneRequest, request: Request) -> CodeSent:
    """Send a sign-in code to this phone if it belongs to a customer. The answer is the same either way."""
    throttle_codes(request)
    get_db().run(lambda s: login.send_sms_login_code(s, phone=body.phone))
    return CodeSent()


@router.post("/sms-login", response_model=SessionRead, response_model_exclude_none=True)
def sms_login(body: SmsLoginRequest, request: Request, response: Response) -> SessionRead:
    throttle_sign_in(request, body.phone)
    client = _client(request, body.device)
    outcome = attempt_credential(
        lambda: get_db().run(
            lambda s: login.with_sms_code(s, phone=body.phone, code=body.code, client=client)
        ),
        lambda: get_db().run(
            lambda s: login.record_failure(s, phone=body.phone, method="sms", client=client)
        ),
    )
    return _answer(outcome, response)


@router.post("/logout", status_code=204)
def logout(principal: CurrentPrincipal, session: WriteSession, response: Response) -> None:
    if principal.token_hash:
        service.logout(session, principal.token_hash)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=CustomerRead | StaffRead)
def me(principal: CurrentPrincipal, session: ReadOnlySession) -> CustomerRead | StaffRead:
    if principal.kind == "customer":
        c = service.get_customer(session, principal.id)
        if c is None:
            raise SessionExpired("the customer no longer exists")
        return CustomerRead.model_validate(c)
    s = service.get_staff(session, principal.id)
    if s is None:
        raise SessionExpired("the staff user no longer exists")
    return StaffRead.model_validate(s)


@router.post("/step-up/sms", response_model=CodeSent)
def step_up_sms(body: StepUpRequest, principal: CurrentCustomer, request: Request) -> CodeSent:
    """Send the SMS code for a step-up challenge; its text names the action being confirmed."""
    throttle_codes(request)
    issued = get_db().run(lambda s: stepup.send_sms(s, principal, body.challenge))
    return _sent(issued)


@router.post("/step-up/passkey-options")
def step_up_passkey_options(body: StepUpRequest, principal: CurrentCustomer, request: Request) -> dict:  # type: ignore[type-arg]
    """WebAuthn request options whose challenge is bound to this step-up challenge."""
    rp_id, _ = relying_party(request)
    return get_db().run(lambda s: stepup.passkey_options(s, principal, body.challenge, rp_id=rp_id))


@router.post("/step-up", response_model=StepUpDone)
def step_up(body: StepUpCompletion, principal: CurrentCustomer, request: Request) -> StepUpDone:
    """Complete a challenge; then repeat the action with the challenge in the `Atrium-Step-Up` header."""
    rp_id, origin = relying_party(request) if body.method == "passkey" else ("", "")
    done = attempt_credential(
        lambda: get_db().run(
            lambda s: stepup.complete(
                s,
                principal,
                body.challenge,
                method=body.method,
                code=body.code or "",
                credential=body.credential,
                rp_id=rp_id,
                origin=origin,
            )
        )
    )
    return StepUpDone(action=done.action, level=done.level, challenge=body.challenge)
