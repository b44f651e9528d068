"""/auth/passkeys (a signed-in customer's passkeys) and /auth/passkey-login (public: sign in with one).

The relying party is the host the request was addressed to, and only when it is one of the configured
RP ids (or a subdomain of one): a relay on another host cannot borrow our RP id, and the expected origin
is this server's own address — never a header the client chose.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.identity import sessions, stepup
from atrium.identity.login import Client
from atrium.identity.passkeys import service, signin
from atrium.identity.passkeys.errors import InvalidPasskey, RelyingPartyRefused
from atrium.identity.passkeys.schemas import (
    PasskeyCreate,
    PasskeyLogin,
    PasskeyLoginOptionsRequest,
    PasskeyRead,
)
from atrium.identity.schemas import SessionRead
from atrium.web.deps import (
    CurrentCustomer,
    ReadOnlySession,
    WriteSession,
    client_info,
    set_session_cookie,
    throttle_address,
    throttle_sign_in,
)

router = APIRouter(prefix="/auth", tags=["passkeys"])

StepUpToken = Annotated[str | None, Header(alias=stepup.HEADER, max_length=4000)]
CredentialId = Annotated[str, Path(min_length=1, max_length=1400, pattern=r"^[A-Za-z0-9_-]+$")]
# Public ceremonies started per network address over five minutes (sign-ins count as every sign-in does).
IP_OPTIONS_LIMIT = 60


def relying_party(request: Request) -> tuple[str, str]:
    """(rp_id, origin) for a WebAuthn ceremony on this request. RelyingPartyRefused (403) when the host is
    not an allowed RP id (IP addresses never are: WebAuthn refuses them), or is reached without TLS
    (except localhost, which browsers treat as secure)."""
    host = (request.url.hostname or "").lower().rstrip(".")
    allowed = [r.lower() for r in get_settings().security.webauthn_rp_ids]
    rp_id = next((r for r in allowed if host == r or host.endswith("." + r)), None)
    if rp_id is None:
        raise RelyingPartyRefused(f"passkeys are not offered at {host or 'this address'}")
    scheme = request.url.scheme
    if scheme != "https" and host != "localhost":
        raise RelyingPartyRefused("passkeys need a secure (https) address")
    port = request.url.port
    default_port = {"https": 443, "http": 80}.get(scheme)
    origin = f"{scheme}://{host}" + (f":{port}" if port and port != default_port else "")
    return rp_id, origin




@router.post("/passkeys/registration-options")
def registration_options(
    principal: CurrentCustomer, request: Request, session: WriteSession, step_up: StepUpToken = None
) -> dict:  # type: ignore[type-arg]
    """Options for navigator.credentials.create(). Adding a passkey needs a multi-factor session (or a
    completed step-up challenge in `Atrium-Step-Up`)."""
    rp_id, origin = relying_party(request)
    stepup.require(session, principal, action="passkey.add", token=step_up)
    return service.registration_options(session, customer_id=principal.id, rp_id=rp_id, origin=origin)


@router.post("/passkeys", response_model=PasskeyRead, status_code=201)
def register(
    body: PasskeyCreate, principal: CurrentCustomer, request: Request, session: WriteSession,
    step_up: StepUpToken = None,
) -> PasskeyRead:
    """Register the credential the browser created for the options above, under a name."""
    rp_id, origin = relying_party(request)
    stepup.require(session, principal, action="passkey.add", token=step_up)
    return service.register(session, customer_id=principal.id, credential=body.credential, name=body.name,
                            rp_id=rp_id, origin=origin)


@router.get("/passkeys", response_model=list[PasskeyRead])
def list_passkeys(principal: CurrentCustomer, session: ReadOnlySession) -> list[PasskeyRead]:
    return service.list_passkeys(session, principal.id)


@router.delete("/passkeys/{credential_id}", status_code=204)
def remove(
    credential_id: CredentialId, principal: CurrentCustomer, session: WriteSession,
    step_up: StepUpToken = None,
) -> Response:
    """Remove one of the caller's passkeys (another customer's id is 404). Needs a step-up bound to this
    credential: the first call answers 401 `step-up-required` with the challenge to complete."""
    service.get_owned(session, customer_id=principal.id, credential_id=credential_id)
    stepup.require(session, principal, action="passkey.remove", elements={"credential": credential_id},
                   token=step_up)
    service.remove(session, customer_id=principal.id, credential_id=credential_id)
    return Response(status_code=204)


@router.post("/passkey-login/options")
def login_options(request: Request, body: PasskeyLoginOptionsRequest | None = None) -> dict:  # type: ignore[type-arg]
    """Public: options for navigator.credentials.get() with any of the customer's discoverable passkeys."""
    rp_id, _ = relying_party(request)
    throttle_address(request, "passkey-options", limit=IP_OPTIONS_LIMIT)
    return get_db().run(lambda s: service.authentication_options(s, rp_id=rp_id))


@router.post("/passkey-login", response_model=SessionRead, response_model_exclude_none=True)
def login(body: PasskeyLogin, request: Request, response: Response) -> SessionRead:
    """Public: sign in with a passkey assertion. A user-verified passkey is two factors: level 2."""
    rp_id, origin = relying_party(request)
    throttle_sign_in(request)
    base = client_info(request)
    client = Client(ip=base.ip, user_agent=base.user_agent, client=body.client)
    try:
        outcome = get_db().run(lambda s: signin.with_passkey(
            s, credential=body.credential, rp_id=rp_id, origin=origin, client=client))
    except InvalidPasskey:
        get_db().run(lambda s: signin.record_failure(s, client=client))
        raise
    p = outcome.principal
    set_session_cookie(response, outcome.token)
    return SessionRead(token=outcome.token, expires_in=get_settings().security.session_ttl_s,
                       subject_kind="customer", subject_id=p.id, loa=p.loa, acr=sessions.acr_of(p.loa))
