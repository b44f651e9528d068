"""Authenticator apps (TOTP, RFC 6238: SHA-1, 6 digits, 30 s steps) through pyotp.

Invariants:
- the secret is sealed at rest (`pii.seal`, context "totp.secret") and shown once, at enrolment;
- enrolment is pending until a first code from the app confirms it (so a mistyped or unscanned secret
  never becomes a factor); a pending enrolment older than 15 minutes must start again;
- a code is accepted in its own 30 s step or one step either side (clock drift), and a step, once
  accepted, can never be accepted again: a code overheard or phished cannot be replayed.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from atrium.identity import audit, pii
from atrium.identity.otp.errors import InvalidCode, TotpAlreadyEnrolled, TotpNotEnrolled, TotpNotEnrolling
from atrium.identity.otp.models import TotpCredential
from atrium.kit import clock

ISSUER = "Atrium"
DRIFT_STEPS = 1
PENDING_TTL = timedelta(minutes=15)
_CONTEXT = "totp.secret"


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=6, interval=30, issuer=ISSUER)


def _current_step(totp: pyotp.TOTP) -> int:
    return totp.timecode(clock.now())


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The step (within the drift window, newer than `after`) whose code is `code`, or None."""
    candidate = (code or "").strip().replace(" ", "")
    if not (len(candidate) == 6 and candidate.isascii() and candidate.isdigit()):
        return None
    totp = _totp(secret)
    now_step = _current_step(totp)
    found = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        # Every step is compared (no early exit), so timing does not tell which one matched.
        if hmac.compare_digest(totp.generate_otp(step), candidate) and (after is None or step > after):
            found = step
    return found


def begin_enrolment(session: Session, customer_id: str, label: str) -> tuple[str, str]:
    """A new secret and its otpauth:// URI (for the app's QR code). Replaces an unconfirmed one."""
    row = session.get(TotpCredential, customer_id)
    if row is not None and row.status == "active":
        raise TotpAlreadyEnrolled("remove the current authenticator app first")
    secret = pyotp.random_base32()
    sealed = pii.seal(secret, context=_CONTEXT)
    if row is None:
        row = TotpCredential(customer_id=customer_id, secret_enc=sealed, status="pending")
        session.add(row)
    row.secret_enc = sealed
    row.status = "pending"
    row.last_step = None
    row.created_at = clock.now()
    row.confirmed_at = None
    session.flush()
    return secret, _totp(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def confirm_enrolment(session: Session, customer_id: str, code: str) -> None:
    row = session.get(TotpCredential, customer_id)
    if row is None or row.status != "pending":
        raise TotpNotEnrolling("no authenticator app is being set up")
    if row.created_at + PENDING_TTL <= clock.now():
        raise TotpNotEnrolling("the set-up expired; start again")
    step = _matching_step(pii.unseal(row.secret_enc, context=_CONTEXT), code, None)
    if step is None:
        raise InvalidCode("the authenticator code is wrong")
    row.status = "active"
    row.last_step = step
    row.confirmed_at = clock.now()
    audit.record(session, customer_id, "totp.enrolled")
    session.flush()


def verify(session: Session, customer_id: str, code: str) -> None:
    """Accept a code from the customer's authenticator app, once per time step; else InvalidCode."""
    row = session.scalar(
        select(TotpCredential)
        .where(TotpCredential.customer_id == customer_id, TotpCredential.status == "active")
        .with_for_update()
    )
    if row is None:
        raise InvalidCode("no authenticator app is set up")
    step = _matching_step(pii.unseal(row.secret_enc, context=_CONTEXT), code, row.last_step)
    if step is None:
        raise InvalidCode("the authenticator code is wrong or was used already")
    row.last_step = step
    session.flush()


def is_enrolled(session: Session, customer_id: str) -> bool:
    return session.scalar(
        select(TotpCredential.customer_id).where(
            TotpCredential.customer_id == customer_id, TotpCredential.status == "active"
        )
    ) is not None


def is_pending(session: Session, customer_id: str) -> bool:
    row = session.get(TotpCredential, customer_id)
    return row is not None and row.status == "pending" and row.created_at + PENDING_TTL > clock.now()


def pending_enrolment(session: Session, customer_id: str, label: str) -> tuple[str, str] | None:
    """The unconfirmed secret and its URI (to show the QR code again until it is confirmed), or None."""
    row = session.get(TotpCredential, customer_id)
    if row is None or row.status != "pending" or row.created_at + PENDING_TTL <= clock.now():
        return None
    secret = pii.unseal(row.secret_enc, context=_CONTEXT)
    return secret, _totp(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def remove(session: Session, customer_id: str) -> None:
    """Remove the authenticator app (the edge has checked a step-up grant for "totp.remove")."""
    result = session.execute(delete(TotpCredential).where(TotpCredential.customer_id == customer_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise TotpNotEnrolled("no authenticator app is set up")
    audit.record(session, customer_id, "totp.removed")


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (no external image request; allowed by the page CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#111", light="#fff")
