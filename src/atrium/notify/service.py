"""Sending text messages and reading them back (the outbox, the anti-phishing check).

Services flush, never commit: a message is recorded in the caller's transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.notify import senders
from atrium.notify.domain import (
    mask_phone,
    new_verify_code,
    normalise_phone,
    normalise_verify_code,
    redacted,
    with_verify_code,
)
from atrium.notify.errors import InvalidPhone
from atrium.notify.models import SentMessage
from atrium.notify.senders import OutgoingSms

__all__ = [
    "SentMessage", "e164", "find_by_verify_code", "mask_phone", "normalise_phone", "outbox",
    "recipient_index", "send_sms",
]
OUTBOX_MAX = 200


def _index_key() -> bytes:
    raw = get_settings().security.pii_key
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = raw.encode()
    # A key of its own (derived, not the PII key itself), so a leaked index cannot be checked against
    # other blind indexes.
    return hmac.new(key, b"atrium.notify.recipient-index", hashlib.sha256).digest()


def e164(phone: str) -> str:
    """The E.164 form of `phone`, or InvalidPhone."""
    number = normalise_phone(phone)
    if number is None:
        raise InvalidPhone("not a phone number")
    return number


def recipient_index(phone: str) -> str:
    """The blind index a message's recipient is stored under (HMAC-SHA256 of the E.164 number)."""
    return hmac.new(_index_key(), e164(phone).encode(), hashlib.sha256).hexdigest()


def _unused_verify_code(session: Session) -> str:
    for _ in range(5):
        code = new_verify_code()
        if session.scalar(select(SentMessage.id).where(SentMessage.verify_code == code)) is None:
            return code
    raise RuntimeError("could not draw an unused reference code")  # 6.6e11 codes: not in this universe


def send_sms(
    session: Session, *, phone: str, text: str, category: str, customer_id: str | None = None,
    locale: str = "zh", redact: Sequence[str] = (),
) -> SentMessage:
    """Append the bank's reference code to `text`, record the message and hand it to the sender.

    `redact`: secrets inside `text` (a one-time code) that a real gateway delivers but the database must
    not keep; with the outbox sender the stored text is the delivery and keeps them.
    """
    number = e164(phone)
    sender = senders.current()
    code = _unused_verify_code(session)
    body = with_verify_code(text, code, locale)
    message = SentMessage(
        id=new_id("sms"),
        channel="sms",
        recipient_hash=recipient_index(number),
        recipient_masked=mask_phone(number),
        customer_id=customer_id,
        category=category,
        locale=locale,
        body=body if sender.name == "outbox" else redacted(body, tuple(redact)),
        verify_code=code,
        sender=sender.name,
        sent_at=clock.now(),
    )
    session.add(message)
    session.flush()  # recorded first: a message that fails to record is never handed over
    message.provider_ref = sender.send(OutgoingSms(to=number, text=body, reference=code, category=category))
    session.flush()
    return message


def find_by_verify_code(session: Session, code: str) -> SentMessage | None:
    """The message that carries reference `code` (as a customer typed it), or None: the bank never sent a
    message with that code."""
    normal = normalise_verify_code(code)
    if normal is None:
        return None
    return session.scalar(select(SentMessage).where(SentMessage.verify_code == normal))


def outbox(session: Session, *, phone: str | None = None, limit: int = 20) -> list[SentMessage]:
    """The latest messages, newest first (optionally to one number)."""
    stmt = select(SentMessage)
    if phone is not None:
        stmt = stmt.where(SentMessage.recipient_hash == recipient_index(phone))
    limit = max(1, min(limit, OUTBOX_MAX))
    stmt = stmt.order_by(SentMessage.sent_at.desc(), SentMessage.id.desc()).limit(limit)
    return list(session.scalars(stmt))
