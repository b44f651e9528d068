"""One-time codes sent by SMS: issue and verify.

Invariants (each has a test):
- a code is 6 digits from `secrets`; only HMAC-SHA256(key, id | code) is stored; comparisons are
  constant-time;
- it lives 5 minutes, verifies at most once, and dies after 5 wrong tries; a newer code for the same phone
  and purpose kills the older one;
- `binding` (a digest of the action's elements, "" for a sign-in) must match the one it was issued for;
- per phone and purpose one code per 60 s, per phone 5 codes an hour: else `TooManyCodes` (429) with
  `retry_after` seconds.

A wrong try is counted in the caller's transaction. An edge that rolls back on `InvalidCode` must count it
again in a new transaction with `record_failure(session, exc.code_id)`, or a guesser would get unlimited
tries.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity import pii
from atrium.identity.otp.errors import InvalidCode, TooManyCodes
from atrium.identity.otp.models import OtpCode
from atrium.identity.otp.texts import PURPOSES, sms_text
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.kit.ids import new_id
from atrium.notify import service as notify

TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
HOURLY_CAP = 5
DIGITS = 6


@dataclass(frozen=True)
class IssuedCode:
    """What the caller may know about a code it had sent: never the code."""

    id: str
    purpose: str
    recipient_masked: str
    issued_at: datetime
    expires_at: datetime
    resend_at: datetime
    message_id: str

    @property
    def expires_in(self) -> int:
        """Seconds the code lives."""
        return int((self.expires_at - self.issued_at).total_seconds())

    @property
    def resend_after(self) -> int:
        """Seconds before another code may be sent for the same phone and purpose."""
        return int((self.resend_at - self.issued_at).total_seconds())


def _key() -> bytes:
    secret = get_settings().security.secret_key.encode()
    return hmac.new(secret, b"atrium.otp.code", hashlib.sha256).digest()


def _hash(code_id: str, code: str) -> str:
    return hmac.new(_key(), f"{code_id}|{code}".encode(), hashlib.sha256).hexdigest()


def _phone_hash(phone: str) -> str:
    return pii.blind_index(notify.e164(phone), context="otp.phone")


def _lock_phone(session: Session, phone_hash: str) -> None:
    """Serialise issuing for one phone, so two concurrent requests cannot both slip under the caps.
    SQLite writers are serialised already (BEGIN IMMEDIATE); PostgreSQL takes a transaction lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(phone_hash[:15], 16)})


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _check_rate(session: Session, phone_hash: str, purpose: str, now: datetime) -> None:
    last = session.scalar(
        select(func.max(OtpCode.created_at))
        .where(OtpCode.phone_hash == phone_hash, OtpCode.purpose == purpose)
    )
    if last is not None and last + RESEND_AFTER > now:
        wait = _retry_after(last + RESEND_AFTER, now)
        raise TooManyCodes("a code was sent less than a minute ago", retry_after=wait)
    recent = list(session.scalars(
        select(OtpCode.created_at)
        .where(OtpCode.phone_hash == phone_hash, OtpCode.created_at > now - timedelta(hours=1))
        .order_by(OtpCode.created_at)
    ))
    if len(recent) >= HOURLY_CAP:
        # The window frees up when the oldest of the last HOURLY_CAP codes is an hour old.
        oldest = recent[-HOURLY_CAP]
        wait = _retry_after(oldest + timedelta(hours=1), now)
        raise TooManyCodes("too many codes this hour", retry_after=wait)


def issue(
    session: Session, *, phone: str, purpose: str, customer_id: str | None = None, binding: str = "",
    summary: str = "", locale: str = "zh",
) -> IssuedCode:
    """Send a fresh code to `phone` for `purpose` (one of `texts.PURPOSES`)."""
    if purpose not in PURPOSES:
        raise ValidationFailed(f"unknown purpose {purpose!r}")
    if len(binding) > 128:
        raise ValidationFailed("the binding is a digest of at most 128 characters")
    phone_hash = _phone_hash(phone)
    now = clock.now()
    _lock_phone(session, phone_hash)
    _check_rate(session, phone_hash, purpose, now)
    session.execute(
        update(OtpCode)
        .where(OtpCode.phone_hash == phone_hash, OtpCode.purpose == purpose, OtpCode.used_at.is_(None),
               OtpCode.dead_at.is_(None))
        .values(dead_at=now)
    )
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    row = OtpCode(
        id=new_id("otp"), phone_hash=phone_hash, purpose=purpose, customer_id=customer_id, binding=binding,
        attempts=0, created_at=now, expires_at=now + TTL,
    )
    row.code_hash = _hash(row.id, code)
    minutes = int(TTL.total_seconds() // 60)
    body = sms_text(purpose, code=code, summary=summary, locale=locale, minutes=minutes)
    message = notify.send_sms(
        session, phone=phone, text=body, category=f"otp.{purpose}", customer_id=customer_id, locale=locale,
        redact=[code],
    )
    row.message_id = message.id
    session.add(row)
    session.flush()
    return IssuedCode(
        id=row.id, purpose=purpose, recipient_masked=message.recipient_masked, issued_at=now,
        expires_at=row.expires_at, resend_at=now + RESEND_AFTER, message_id=message.id,
    )


def _count_failure(row: OtpCode, now: datetime) -> None:
    row.attempts += 1
    if row.attempts >= MAX_ATTEMPTS:
        row.dead_at = now


def verify(session: Session, *, phone: str, purpose: str, code: str, binding: str = "") -> None:
    """Accept `code` once, or raise InvalidCode (wrong, expired, used, dead or for another binding)."""
    phone_hash = _phone_hash(phone)
    now = clock.now()
    row = session.scalar(
        select(OtpCode)
        .where(OtpCode.phone_hash == phone_hash, OtpCode.purpose == purpose, OtpCode.used_at.is_(None),
               OtpCode.dead_at.is_(None))
        .order_by(OtpCode.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.expires_at <= now:
        raise InvalidCode("no live code for this phone and purpose")
    candidate = (code or "").strip()
    wellformed = len(candidate) == DIGITS and candidate.isascii() and candidate.isdigit()
    right_code = hmac.compare_digest(_hash(row.id, candidate if wellformed else "-"), row.code_hash)
    right_binding = hmac.compare_digest(row.binding.encode(), binding.encode())
    if not (wellformed and right_code and right_binding):
        _count_failure(row, now)
        session.flush()
        raise InvalidCode("the code is wrong", code_id=row.id, attempts_left=MAX_ATTEMPTS - row.attempts)
    # Conditional on still unused: of two concurrent verifications only one can take the code.
    taken = session.execute(
        update(OtpCode).where(OtpCode.id == row.id, OtpCode.used_at.is_(None)).values(used_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidCode("the code was used already")
    session.expire(row)


def record_failure(session: Session, code_id: str) -> None:
    """Count a wrong try again after the caller's transaction rolled back (see the module docstring)."""
    row = session.get(OtpCode, code_id, with_for_update=True)
    if row is not None and row.used_at is None and row.dead_at is None:
        _count_failure(row, clock.now())
        session.flush()
