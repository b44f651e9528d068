"""Passkeys (WebAuthn): register a customer's discoverable credentials and sign in or step up with them.

Invariants:
- Every ceremony's challenge is random, server-side, good for one response and for two minutes.
- User verification is required at registration and at every assertion, so a passkey is two factors at
  once (something held + something the customer is or knows): a passkey sign-in is level 2.
- The authenticator's signature counter must grow; a response whose counter did not (when either side is
  non-zero) is refused as a possibly cloned authenticator.
- A step-up ceremony is bound to one action: its challenge is SHA-256 of a random nonce and the action's
  binding string, so the assertion cannot be replayed for another action (and the caller must name the
  same binding when it verifies).
- A customer sees and removes only their own passkeys; another's credential id is "not found".
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from atrium.config import get_settings
from atrium.identity import audit
from atrium.identity.models import Customer
from atrium.identity.passkeys.errors import (
    InvalidPasskey,
    InvalidPasskeyName,
    NoPasskey,
    PasskeyExists,
    PasskeyNotFound,
    TooManyPasskeys,
)
from atrium.identity.passkeys.models import PasskeyCeremony, PasskeyCredential
from atrium.identity.passkeys.schemas import PasskeyRead
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.logs import get_logger

log = get_logger("atrium.identity.passkeys")

CEREMONY_TTL = timedelta(minutes=2)
MAX_PASSKEYS = 10
_TRANSPORTS = {t.value for t in AuthenticatorTransport}
_PARSE_ERRORS = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)


def _rp_name() -> str:
    return get_settings().security.webauthn_rp_name


def _user_handle(customer_id: str) -> bytes:
    """The WebAuthn user handle: the opaque customer id (no name, phone or e-mail in it)."""
    return customer_id.encode()


def _read(row: PasskeyCredential) -> PasskeyRead:
    return PasskeyRead(
        id=row.id, name=row.name, transports=[t for t in row.transports.split(",") if t], aaguid=row.aaguid,
        backed_up=row.backed_up, created_at=row.created_at, last_used_at=row.last_used_at,
    )


def _descriptor(row: PasskeyCredential) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in row.transports.split(",") if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(row.id), transports=transports or None)


def _credentials_of(session: Session, customer_id: str) -> list[PasskeyCredential]:
    stmt = select(PasskeyCredential).where(PasskeyCredential.customer_id == customer_id)
    return list(session.scalars(stmt.order_by(PasskeyCredential.created_at, PasskeyCredential.id)))


def _active_customer(session: Session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.status != "active":
        raise InvalidPasskey("the customer is unknown or closed")
    return customer


def _start(
    session: Session, *, kind: str, challenge: bytes, rp_id: str, customer_id: str | None, nonce: str = "",
    origin: str = "",
) -> None:
    now = clock.now()
    session.add(PasskeyCeremony(
        id=new_id("pkc"), customer_id=customer_id, kind=kind, challenge=bytes_to_base64url(challenge),
        nonce=nonce, rp_id=rp_id, origin=origin, expires_at=now + CEREMONY_TTL, created_at=now,
    ))
    session.flush()


def _client_challenge(client_data_b64: Any) -> str:
    if not isinstance(client_data_b64, str):
        raise InvalidPasskey("the response has no client data")
    try:
        return bytes_to_base64url(parse_client_data_json(base64url_to_bytes(client_data_b64)).challenge)
    except _PARSE_ERRORS as exc:
        raise InvalidPasskey("the client data is malformed") from exc


def _ceremony(
    session: Session, challenge: str, *, kind: str, customer_id: str | None, rp_id: str
) -> PasskeyCeremony:
    """The live ceremony that issued `challenge` (not consumed yet: `_consume` does that once the response
    has been verified, so a refused response leaves nothing half-done)."""
    row = session.scalar(select(PasskeyCeremony).where(PasskeyCeremony.challenge == challenge))
    if row is None or row.kind != kind:
        raise InvalidPasskey("the challenge is unknown")
    if row.customer_id != customer_id:
        raise InvalidPasskey("the challenge was issued for another ceremony")
    if row.rp_id != rp_id:
        raise InvalidPasskey("the challenge was issued for another relying party")
    if row.used_at is not None:
        raise InvalidPasskey("the challenge was already used")
    if row.expires_at <= clock.now():
        raise InvalidPasskey("the challenge has expired")
    return row


def _consume(session: Session, row: PasskeyCeremony) -> None:
    """Mark the ceremony used — at most once, even when two requests race with the same response (the
    second one's conditional update finds it used)."""
    now = clock.now()
    claimed = session.execute(
        update(PasskeyCeremony)
        .where(PasskeyCeremony.id == row.id, PasskeyCeremony.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise InvalidPasskey("the challenge was already used")
    row.used_at = now


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= 64 or any(ord(ch) < 32 for ch in cleaned):
        raise InvalidPasskeyName("name the passkey with 1 to 64 characters")
    return cleaned


# --- registration ----------------------------------------------------------------------------------


def registration_options(session: Session, *, customer_id: str, rp_id: str, origin: str) -> dict:
    """Options for navigator.credentials.create(): a discoverable credential with user verification,
    excluding the customer's existing passkeys. JSON-ready; the challenge is kept server side."""
    customer = _active_customer(session, customer_id)
    existing = _credentials_of(session, customer_id)
    if len(existing) >= MAX_PASSKEYS:
        raise TooManyPasskeys(f"at most {MAX_PASSKEYS} passkeys", limit=MAX_PASSKEYS)
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp_id, rp_name=_rp_name(), user_id=_user_handle(customer_id), user_name=customer.username,
        user_display_name=customer.display_name, challenge=challenge,
        timeout=int(CEREMONY_TTL.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(c) for c in existing],
    )
    _start(session, kind="registration", challenge=challenge, rp_id=rp_id, customer_id=customer_id,
           origin=origin)
    return _as_json(options)


def _as_json(options: Any) -> dict:
    return json.loads(options_to_json(options))


def register(
    session: Session, *, customer_id: str, credential: dict, name: str, rp_id: str, origin: str
) -> PasskeyRead:
    """Verify the authenticator's attestation response (user verified, our RP, our origin, our challenge)
    and store the credential's public key."""
    clean_name = _clean_name(name)
    _active_customer(session, customer_id)
    try:
        parsed: RegistrationCredential = parse_registration_credential_json(credential)
    except _PARSE_ERRORS as exc:
        raise InvalidPasskey("the registration response is malformed") from exc
    challenge = _client_challenge(credential.get("response", {}).get("clientDataJSON"))
    ceremony = _ceremony(session, challenge, kind="registration", customer_id=customer_id, rp_id=rp_id)
    if ceremony.origin and ceremony.origin != origin:
        raise InvalidPasskey("the response came from another origin than the options")
    try:
        verified = verify_registration_response(
            credential=parsed, expected_challenge=base64url_to_bytes(ceremony.challenge),
            expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=True,
        )
    except _PARSE_ERRORS as exc:
        raise InvalidPasskey(f"the registration was refused: {exc}") from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.get(PasskeyCredential, credential_id) is not None:
        raise PasskeyExists("this passkey is already registered")
    if len(_credentials_of(session, customer_id)) >= MAX_PASSKEYS:
        raise TooManyPasskeys(f"at most {MAX_PASSKEYS} passkeys", limit=MAX_PASSKEYS)
    _consume(session, ceremony)
    transports = [t.value for t in (parsed.response.transports or []) if t.value in _TRANSPORTS]
    row = PasskeyCredential(
        id=credential_id, customer_id=customer_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, transports=",".join(sorted(set(transports))), aaguid=verified.aaguid,
        name=clean_name, backed_up=verified.credential_backed_up, created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(session, customer_id, "passkey.added", f"{row.name} ({credential_id[:12]})")
    log.info("passkey.registered", customer_id=customer_id, credential=credential_id[:12])
    return _read(row)


# --- authentication --------------------------------------------------------------------------------


def _bound_challenge(nonce: bytes, bind: str) -> bytes:
    return hashlib.sha256(b"atrium-passkey-bind|" + nonce + b"|" + bind.encode()).digest()


def authentication_options(
    session: Session, *, rp_id: str, customer_id: str | None = None, bind: str = ""
) -> dict:
    """Options for navigator.credentials.get(). Without a customer: a sign-in with any discoverable
    passkey (the browser lists them). With one: only that customer's passkeys (a step-up); `bind` ties the
    challenge to one action."""
    allow: list[PublicKeyCredentialDescriptor] = []
    if customer_id is not None:
        _active_customer(session, customer_id)
        rows = _credentials_of(session, customer_id)
        if not rows:
            raise NoPasskey("the customer has no passkey")
        allow = [_descriptor(r) for r in rows]
    elif bind:
        raise ValueError("a bound ceremony is a step-up: name the customer")
    nonce = secrets.token_bytes(32) if bind else b""
    challenge = _bound_challenge(nonce, bind) if bind else secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge, timeout=int(CEREMONY_TTL.total_seconds() * 1000),
        allow_credentials=allow, user_verification=UserVerificationRequirement.REQUIRED,
    )
    _start(session, kind="authentication", challenge=challenge, rp_id=rp_id, customer_id=customer_id,
           nonce=bytes_to_base64url(nonce) if bind else "")
    return _as_json(options)


def _check_binding(ceremony: PasskeyCeremony, bind: str) -> None:
    if not ceremony.nonce:
        if bind:
            raise InvalidPasskey("the challenge is not bound to this action")
        return
    expected = _bound_challenge(base64url_to_bytes(ceremony.nonce), bind)
    if not secrets.compare_digest(bytes_to_base64url(expected), ceremony.challenge):
        raise InvalidPasskey("the challenge is bound to another action")


def authenticate(
    session: Session, *, credential: dict, rp_id: str, origin: str, customer_id: str | None = None,
    bind: str = "",
) -> str:
    """Verify an assertion against a challenge this service issued. Returns the customer's id; raises
    InvalidPasskey (401) for any refusal. Updates the credential's counter and last use."""
    try:
        parsed: AuthenticationCredential = parse_authentication_credential_json(credential)
    except _PARSE_ERRORS as exc:
        raise InvalidPasskey("the passkey response is malformed") from exc
    challenge = _client_challenge(credential.get("response", {}).get("clientDataJSON"))
    ceremony = _ceremony(session, challenge, kind="authentication", customer_id=customer_id, rp_id=rp_id)
    _check_binding(ceremony, bind)
    row = session.get(PasskeyCredential, bytes_to_base64url(parsed.raw_id))
    if row is None:
        raise InvalidPasskey("the passkey is not registered")
    if customer_id is not None and row.customer_id != customer_id:
        raise InvalidPasskey("the passkey belongs to another customer")
    handle = parsed.response.user_handle
    if handle is not None and handle != _user_handle(row.customer_id):
        raise InvalidPasskey("the passkey's user handle does not match its customer")
    _active_customer(session, row.customer_id)
    try:
        # The counter is checked below, once the signature is known to be genuine: only then does a
        # counter that went backwards mean a clone (an unsigned guess means nothing).
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(ceremony.challenge),
            expected_rp_id=rp_id, expected_origin=origin, credential_public_key=row.public_key,
            credential_current_sign_count=0, require_user_verification=True,
        )
    except _PARSE_ERRORS as exc:
        raise InvalidPasskey(f"the passkey response was refused: {exc}") from exc
    received = verified.new_sign_count
    if (received > 0 or row.sign_count > 0) and received <= row.sign_count:
        log.warning("passkey.counter_regressed", customer_id=row.customer_id, credential=row.id[:12],
                    stored=row.sign_count, received=received)
        raise InvalidPasskey("the signature counter went backwards: the authenticator may be cloned")
    _consume(session, ceremony)
    row.sign_count = verified.new_sign_count
    row.backed_up = verified.credential_backed_up
    row.last_used_at = clock.now()
    session.flush()
    return row.customer_id


# --- the customer's own passkeys ---------------------------------------------------------------------


def has_passkey(session: Session, customer_id: str) -> bool:
    stmt = select(func.count()).select_from(PasskeyCredential)
    return bool(session.scalar(stmt.where(PasskeyCredential.customer_id == customer_id)))


def list_passkeys(session: Session, customer_id: str) -> list[PasskeyRead]:
    return [_read(r) for r in _credentials_of(session, customer_id)]


def get_owned(session: Session, *, customer_id: str, credential_id: str) -> PasskeyRead:
    """The customer's passkey; PasskeyNotFound (404, not 403, so ids cannot be probed) otherwise."""
    row = session.get(PasskeyCredential, credential_id)
    if row is None or row.customer_id != customer_id:
        raise PasskeyNotFound("no such passkey")
    return _read(row)


def remove(session: Session, *, customer_id: str, credential_id: str) -> None:
    row = session.get(PasskeyCredential, credential_id)
    if row is None or row.customer_id != customer_id:
        raise PasskeyNotFound("no such passkey")
    session.delete(row)
    audit.record(session, customer_id, "passkey.removed", f"{row.name} ({credential_id[:12]})")
    log.info("passkey.removed", customer_id=customer_id, credential=credential_id[:12])


def purge_ceremonies(session: Session, *, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete ceremonies that ended (expired or used) more than `older_than` ago. Returns how many."""
    cutoff = clock.now() - older_than
    result = session.execute(delete(PasskeyCeremony).where(PasskeyCeremony.expires_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
