"""/auth/registration (public): register with a verified phone. /auth/profile and /auth/identities: the
signed-in customer's masked KYC details, one revealed at a time, and switching the identity a session acts
as. /auth/profile/display-mode: the customer's display mode (standard or elder), read and set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.identity import identities, kyc, registration, sessions
from atrium.identity import service as identity
from atrium.identity.otp import service as otp
from atrium.identity.principal import Principal
from atrium.identity.profile.domain import DEFAULT_UI_MODE
from atrium.identity.profile.schemas import (
    CustomerProfile,
    DisplayModeRead,
    DisplayModeUpdate,
    IdentityRead,
    RegistrationCodeSent,
    RegistrationCreate,
    RegistrationRead,
    RegistrationStart,
    RegistrationTicket,
    RegistrationVerify,
    RevealRead,
    RevealRequest,
)
from atrium.web.deps import (
    CurrentCustomer,
    ReadOnlySession,
    attempt_credential,
    client_info,
    set_session_cookie,
    throttle_address,
)

router = APIRouter(prefix="/auth", tags=["auth"])

# Per network address over five minutes: codes sent (shared with the sign-in codes) and codes tried.
IP_CODE_LIMIT = 10
IP_VERIFY_LIMIT = 30


@router.post("/registration/start", response_model=RegistrationCodeSent, status_code=202)
def start_registration(body: RegistrationStart, request: Request) -> RegistrationCodeSent:
    """Send a registration code to the phone. The answer is the same for a number that is registered
    already (its owner gets a text saying someone tried to register with it)."""
    throttle_address(request, "code", limit=IP_CODE_LIMIT)
    get_db().run(lambda s: registration.start(s, phone=body.phone, locale=body.locale))
    return RegistrationCodeSent(
        expires_in=int(otp.TTL.total_seconds()), resend_after=int(otp.RESEND_AFTER.total_seconds())
    )


@router.post("/registration/verify", response_model=RegistrationTicket)
def verify_registration_phone(body: RegistrationVerify, request: Request) -> RegistrationTicket:
    """Check the code; the ticket proves the phone to POST /auth/registration for 15 minutes."""
    throttle_address(request, "register-verify", limit=IP_VERIFY_LIMIT)
    # A wrong try is counted against the code even though this transaction rolls back.
    ticket = attempt_credential(
        lambda: get_db().run(lambda s: registration.verify_phone(s, phone=body.phone, code=body.code)))
    return RegistrationTicket(ticket=ticket, expires_in=int(registration.TICKET_TTL.total_seconds()))


@router.post("/registration", response_model=RegistrationRead, status_code=201)
def register(body: RegistrationCreate, request: Request, response: Response) -> RegistrationRead:
    """Create the customer (KYC details, username, password) and sign them in. Every invalid field is
    reported at once (`registration-invalid`, `errors`: field → problem codes)."""
    client = client_info(request)
    details = registration.Details(
        username=body.username.strip(), password=body.password, legal_name=body.legal_name,
        id_number=body.id_number, email=body.email, address=body.address, display_name=body.display_name,
    )

    def work(s: Session) -> tuple[registration.Registered, str, Principal]:
        done = registration.complete(
            s, ticket=body.ticket, details=details, locale=body.locale, channel="api"
        )
        token, principal = sessions.open_session(
            s, customer_id=done.customer_id, amr=["sms", "pwd"], ip=client.ip, user_agent=client.user_agent,
            client="api", identity_id=done.identity_id,
        )
        return done, token, principal

    done, token, principal = get_db().run(work)
    set_session_cookie(response, token)
    return RegistrationRead(
        customer_id=done.customer_id, identity_id=done.identity_id, username=done.username, token=token,
        expires_in=get_settings().security.session_ttl_s, loa=principal.loa,
        acr=sessions.acr_of(principal.loa),
    )


@router.get("/profile", response_model=CustomerProfile)
def get_profile(customer: CurrentCustomer, session: ReadOnlySession) -> CustomerProfile:
    """The signed-in customer's details, masked ("138****5678")."""
    return kyc.profile(session, customer.id)


@router.post("/profile/reveal", response_model=RevealRead)
def reveal(
    body: RevealRequest, customer: CurrentCustomer, session: ReadOnlySession, response: Response
) -> RevealRead:
    """One of the customer's own details in clear (a POST, so it is neither cached nor in any URL log)."""
    response.headers["Cache-Control"] = "no-store"
    return RevealRead(field=body.field, value=kyc.reveal(session, customer.id, body.field))


@router.get("/identities", response_model=list[IdentityRead])
def list_identities(customer: CurrentCustomer, session: ReadOnlySession) -> list[IdentityRead]:
    """The identities this login can act as; `current` marks the one this session acts as."""
    current = identities.current_identity(session, customer)
    return identities.list_identities(session, customer.id, current_id=current.id if current else None)


@router.post("/identities/{identity_id}/switch", response_model=IdentityRead)
def switch_identity(
    identity_id: Annotated[str, Path(max_length=40)], customer: CurrentCustomer
) -> IdentityRead:
    """Act as another of the customer's identities in this session (another customer's: 404)."""
    return get_db().run(lambda s: identities.switch(s, customer, identity_id))


@router.get("/profile/display-mode", response_model=DisplayModeRead)
def get_display_mode(customer: CurrentCustomer, session: ReadOnlySession) -> DisplayModeRead:
    """How the app is drawn for the customer: "standard" or "elder" (larger type and targets, plain
    wording, a second confirmation of every money movement). `chosen`: whether they ever picked one."""
    stored = identity.ui_mode_of(session, customer.id)
    chosen = stored is not None
    return DisplayModeRead.model_validate({"ui_mode": stored or DEFAULT_UI_MODE, "chosen": chosen})


@router.put("/profile/display-mode", response_model=DisplayModeRead)
def set_display_mode(body: DisplayModeUpdate, customer: CurrentCustomer) -> DisplayModeRead:
    """Choose the display mode; every device the customer signs in on follows it. The change is recorded
    (with this session) unless the mode was already the chosen one."""
    get_db().run(
        lambda s: identity.set_ui_mode(s, customer.id, body.ui_mode, channel="api", sid=customer.sid)
    )
    return DisplayModeRead(ui_mode=body.ui_mode, chosen=True)
