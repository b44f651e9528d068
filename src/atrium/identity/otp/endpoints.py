"""/auth: authenticator-app enrolment and removal, and the customer's password change.

Sensitive changes go through `stepup.require` (the `Atrium-Step-Up` header carries a completed challenge):
removing the authenticator app and changing the password need a level-3 grant; adding an authenticator
app needs a multi-factor session ("totp.add"), so a password-only session cannot mint its own factor.
Writes run in `Database.run` so that a refused try can be counted in a transaction of its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from atrium.db.runtime import get_db
from atrium.identity import password_policy, service, sessions, stepup
from atrium.identity.otp import totp
from atrium.identity.otp.errors import WrongCurrentPassword
from atrium.identity.principal import Principal
from atrium.identity.protection import lockout
from atrium.web.deps import CurrentCustomer, ReadOnlySession

router = APIRouter(prefix="/auth", tags=["auth"])
StepUpToken = Annotated[str | None, Header(alias=stepup.HEADER, max_length=4096)]


class TotpStatus(BaseModel):
    enrolled: bool
    pending: bool


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32 secret, for typing into the app by hand")
    otpauth_uri: str = Field(description="otpauth:// URI for the app's QR scanner (issuer Atrium)")


class TotpCode(BaseModel):
    code: str = Field(min_length=6, max_length=8)


class PasswordChange(BaseModel):
    old_password: str = Field(min_length=1, max_length=password_policy.MAX_LENGTH)
    new_password: str = Field(min_length=1, max_length=password_policy.MAX_LENGTH + 1)


def _label(session, principal: Principal) -> str:  # type: ignore[no-untyped-def]
    customer = service.get_customer(session, principal.id)
    return customer.username if customer is not None else principal.id


@router.get("/totp", response_model=TotpStatus)
def totp_status(principal: CurrentCustomer, session: ReadOnlySession) -> TotpStatus:
    return TotpStatus(enrolled=totp.is_enrolled(session, principal.id),
                      pending=totp.is_pending(session, principal.id))


@router.post("/totp/enrolment", response_model=TotpEnrolment, status_code=201)
def begin_totp(principal: CurrentCustomer, step_up: StepUpToken = None) -> TotpEnrolment:
    """Start setting up an authenticator app: a new secret, shown once here, confirmed by a first code."""
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, principal, action="totp.add", elements={}, token=step_up)
        return totp.begin_enrolment(s, principal.id, _label(s, principal))

    secret, uri = get_db().run(work)
    return TotpEnrolment(secret=secret, otpauth_uri=uri)


@router.post("/totp/enrolment/confirm", response_model=TotpStatus)
def confirm_totp(body: TotpCode, principal: CurrentCustomer, step_up: StepUpToken = None) -> TotpStatus:
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, principal, action="totp.add", elements={}, token=step_up)
        totp.confirm_enrolment(s, principal.id, body.code)

    get_db().run(work)
    return TotpStatus(enrolled=True, pending=False)


@router.delete("/totp", status_code=204)
def remove_totp(principal: CurrentCustomer, step_up: StepUpToken = None) -> None:
    """Remove the authenticator app: needs a level-3 step-up grant for "totp.remove"."""
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, principal, action="totp.remove", elements={}, token=step_up)
        totp.remove(s, principal.id)

    get_db().run(work)


@router.post("/password", status_code=204)
def change_password(body: PasswordChange, principal: CurrentCustomer, step_up: StepUpToken = None) -> None:
    """Change the password (current one first; the policy's violations come back as `violations` ids in a
    422 problem). Needs a level-3 grant for "password.change". Signs out the customer's other sessions."""
    change(principal, old=body.old_password, new=body.new_password, step_up=step_up)


def change(principal: Principal, *, old: str, new: str, step_up: str | None) -> None:
    """The password change at the edge (the mobile page does the same): a wrong current password counts
    towards the lockout, in a transaction of its own."""
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, principal, action="password.change", elements={}, token=step_up)
        password_policy.change_password(s, principal.id, old, new)
        sessions.revoke_all(s, principal.id, except_sid=principal.sid)

    try:
        get_db().run(work)
    except WrongCurrentPassword:
        get_db().run(lambda s: lockout.record_failure(s, principal.id))
        raise
