"""Device binding and transaction signing: the use cases. Services flush, the edge commits.

Invariants:
- a device belongs to one customer; its key is an ECDSA P-256 key whose private half stays in the device;
- `prove` answers only for a trusted, unrevoked device of that customer that signed a fresh sign-in nonce
  the server issued, and each nonce proves once;
- a transaction signature is accepted once: by an unrevoked device of the customer, over the canonical
  bytes of exactly the elements given, with a `time` within the window around now and an unspent `nonce`;
- revoked devices and signatures stay, as evidence.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.config import DeviceSettings, get_settings
from atrium.identity import audit
from atrium.identity.devices import signing
from atrium.identity.devices.errors import DeviceNotFound, TamperedSignature
from atrium.identity.devices.models import Device, TransactionSignature, UsedNonce
from atrium.identity.devices.schemas import DeviceRead, TransactionSignatureRead
from atrium.kit import clock
from atrium.kit.ids import new_id


def settings() -> DeviceSettings:
    """`cooling_off_h` (lower payment limits after binding), `nonce_ttl_s` (a sign-in nonce's life),
    `signature_window_s` (how far a signed `time` may be from the server's clock, either way)."""
    return get_settings().devices


# --- binding ---------------------------------------------------------------------------------------------

_BROWSERS = (("Edg/", "Edge"), ("MicroMessenger", "WeChat"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str) -> str:
    """A short, human name for a browser ("Chrome · Android"), the default name of a new device."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    parts = [p for p in (browser, system) if p]
    return " · ".join(parts) if parts else "Browser"


def _read(device: Device, now: datetime | None = None) -> DeviceRead:
    now = now or clock.now()
    view = DeviceRead.model_validate(device)
    return view.model_copy(update={
        "trusted": device.trusted_at is not None and device.revoked_at is None,
        "cooling_off": now < device.cooling_off_until,
    })


def _clean_name(name: str, user_agent: str) -> str:
    text = " ".join(name.split())[:80]
    return text if text and text.isprintable() else describe_user_agent(user_agent)


def register_device(
    session: Session, *, customer_id: str, public_key: str, name: str, user_agent: str
) -> Device:
    """Bind a device key to the customer; its cooling-off period starts now. Binding the same key again while
    an untrusted, unrevoked device holds it returns that device (a sign-in that repeats before trust).
    This does not prove the caller holds the private key: trust comes from `mark_trusted` after a second
    factor, and sign-ins rely on `prove`. A blank `name` becomes one derived from the user agent."""
    signing.load_public_key(public_key)  # InvalidPublicKey for anything but P-256 SPKI
    digest = signing.key_digest(public_key)
    existing = session.scalar(
        select(Device).where(
            Device.customer_id == customer_id, Device.key_digest == digest, Device.revoked_at.is_(None),
            Device.trusted_at.is_(None),
        ).order_by(Device.created_at.desc()).limit(1)
    )
    now = clock.now()
    if existing is not None:
        existing.last_seen_at = now
        session.flush()
        return existing
    device = Device(
        id=new_id("dev"), customer_id=customer_id, public_key=public_key, key_digest=digest,
        name=_clean_name(name, user_agent), user_agent=user_agent[:300], created_at=now,
        cooling_off_until=now + timedelta(hours=settings().cooling_off_h), last_seen_at=now,
    )
    session.add(device)
    session.flush()
    return device


def mark_trusted(session: Session, device_id: str) -> None:
    """The sign-in that bound (or presented) the device passed a second factor: trust it from now on."""
    device = session.get(Device, device_id)
    if device is None or device.revoked_at is not None:
        raise DeviceNotFound("no such device")
    if device.trusted_at is None:
        device.trusted_at = clock.now()
        session.flush()


def cooling_off(session: Session, device_id: str | None) -> bool:
    """Whether payments from this device run under the lower limits of a new device: no device, an
    unknown, revoked or untrusted one, or one bound less than `cooling_off_h` ago."""
    if device_id is None:
        return True
    device = session.get(Device, device_id)
    if device is None or device.revoked_at is not None or device.trusted_at is None:
        return True
    return clock.now() < device.cooling_off_until


def get_device(
    session: Session, customer_id: str, device_id: str, *, include_revoked: bool = False
) -> DeviceRead:
    """One of the customer's devices; DeviceNotFound (404) for another customer's (or a revoked one, unless
    `include_revoked`)."""
    device = session.get(Device, device_id)
    if device is None or device.customer_id != customer_id:
        raise DeviceNotFound("no such device")
    if device.revoked_at is not None and not include_revoked:
        raise DeviceNotFound("the device was removed")
    return _read(device)


def list_devices(session: Session, customer_id: str, *, include_revoked: bool = False) -> list[DeviceRead]:
    """The customer's devices, most recently seen first."""
    stmt = select(Device).where(Device.customer_id == customer_id)
    if not include_revoked:
        stmt = stmt.where(Device.revoked_at.is_(None))
    rows = session.scalars(stmt.order_by(Device.created_at.desc(), Device.id.desc()))
    now = clock.now()
    views = [_read(d, now) for d in rows]
    oldest = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(views, key=lambda d: d.last_seen_at or oldest, reverse=True)


def _owned_live(session: Session, customer_id: str, device_id: str) -> Device:
    device = session.get(Device, device_id)
    if device is None or device.customer_id != customer_id or device.revoked_at is not None:
        raise DeviceNotFound("no such device")
    return device


def rename(session: Session, *, customer_id: str, device_id: str, name: str) -> DeviceRead:
    device = _owned_live(session, customer_id, device_id)
    device.name = _clean_name(name, device.user_agent)
    audit.record(session, customer_id, "device.renamed", f"{device.id}: {device.name}")
    session.flush()
    return _read(device)


def revoke(session: Session, *, customer_id: str, device_id: str) -> DeviceRead:
    """Unbind a device: it proves nothing and signs nothing any more. DeviceNotFound for another
    customer's device or one already revoked. (Callers demand a step-up first: action "device.change".)"""
    device = _owned_live(session, customer_id, device_id)
    device.revoked_at = clock.now()
    audit.record(session, customer_id, "device.removed", f"{device.id}: {device.name}")
    session.flush()
    return _read(device)


# --- nonces ----------------------------------------------------------------------------------------------


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(UsedNonce)


def _spend(session: Session, digest: str, expires_at: datetime) -> bool:
    """Record a nonce as spent; False when it already was (a replay). Safe under concurrency: the primary
    key decides, and ON CONFLICT DO NOTHING reports the loser without aborting its transaction."""
    spent = session.execute(
        _insert(session).values(digest=digest, expires_at=expires_at)
        .on_conflict_do_nothing().returning(UsedNonce.digest)
    ).first()
    return spent is not None


def purge_spent_nonces(session: Session, *, now: datetime | None = None) -> int:
    """Forget spent nonces past their expiry (they are refused for their age by then)."""
    result = session.execute(delete(UsedNonce).where(UsedNonce.expires_at < (now or clock.now())))
    return int(result.rowcount)  # type: ignore[attr-defined]


def login_nonce() -> str:
    """A fresh sign-in nonce for the device to sign: signed by the server, valid `nonce_ttl_s` seconds,
    stateless until it is spent."""
    expires_at = clock.now() + timedelta(seconds=settings().nonce_ttl_s)
    return signing.issue_nonce(get_settings().security.secret_key, expires_at=expires_at)


def prove(session: Session, *, customer_id: str, device_id: str, nonce: str, signature: str) -> Device | None:
    """The customer's trusted, unrevoked device `device_id` when its key signed `nonce` (a live nonce of
    ours, not spent before); else None. A successful proof spends the nonce."""
    now = clock.now()
    expires_at = signing.nonce_expiry(get_settings().security.secret_key, nonce, now=now)
    if expires_at is None:
        return None
    device = session.get(Device, device_id)
    if device is None or device.customer_id != customer_id or device.revoked_at is not None:
        return None
    if device.trusted_at is None:
        return None
    if not signing.verify(device.public_key, nonce.encode("utf-8"), signature):
        return None
    if not _spend(session, signing.digest("login", nonce), expires_at):
        return None
    device.last_seen_at = now
    session.flush()
    return device


# --- transaction signing ---------------------------------------------------------------------------------

_NONCE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,100}$")


def verify_transaction(
    session: Session, *, customer_id: str, device_id: str, elements: dict[str, str], signature: str
) -> TransactionSignatureRead:
    """Check a device's signature over a transaction's elements and keep it as evidence. The caller builds
    `elements` from the transaction it is about to make (payee, amount_minor, currency, …) plus the
    `time` and `nonce` the device signed, so any element changed on the way breaks the signature.
    TamperedSignature (422 "signature-invalid") for a signature that does not hold, another customer's or a
    revoked device, a `time` outside the window, or a nonce already used."""
    checked = signing.check_elements(elements)
    device = session.get(Device, device_id)
    if device is None or device.customer_id != customer_id:
        raise TamperedSignature("the signature was not made by one of your devices")
    if device.revoked_at is not None:
        raise TamperedSignature("the signing device was removed from your account")
    message = signing.canonical(checked)
    if not signing.verify(device.public_key, message, signature):
        raise TamperedSignature("the signature does not match the transaction details")
    now = clock.now()
    window = timedelta(seconds=settings().signature_window_s)
    signed_at = signing.parse_time(checked["time"])
    if abs(now - signed_at) > window:
        raise TamperedSignature("the signature is too old or dated in the future; confirm again")
    if not _NONCE_SHAPE.match(checked["nonce"]):
        raise TamperedSignature("the signed nonce is malformed")
    if not _spend(session, signing.digest("tx", device.id, checked["nonce"]), max(now, signed_at) + window):
        raise TamperedSignature("this signature was used already; confirm again")
    row = TransactionSignature(
        id=new_id("tsg"), customer_id=customer_id, device_id=device.id, elements=checked,
        canonical_digest=signing.digest_bytes(message), signature=signature, verified_at=now,
    )
    device.last_seen_at = now
    session.add(row)
    session.flush()
    return TransactionSignatureRead.model_validate(row)


def attach(session: Session, signature_id: str, payment_id: str) -> TransactionSignatureRead:
    """Record which payment a verified signature authorised (once; the same payment again is a no-op)."""
    row = session.get(TransactionSignature, signature_id)
    if row is None:
        raise DeviceNotFound("no such transaction signature")
    if row.reference not in (None, payment_id):
        raise TamperedSignature("this signature already authorised another payment")
    row.reference = payment_id
    session.flush()
    return TransactionSignatureRead.model_validate(row)


def get_signature(session: Session, signature_id: str) -> TransactionSignatureRead | None:
    row = session.get(TransactionSignature, signature_id)
    return TransactionSignatureRead.model_validate(row) if row is not None else None
