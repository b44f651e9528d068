"""Sending text messages and push notifications, and reading them back (the outbox, the anti-phishing
check), and customers' push subscriptions.

Services flush, never commit: a message is recorded in the caller's transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.notify import push, senders
from atrium.notify.domain import (
    mask_phone,
    new_verify_code,
    normalise_phone,
    normalise_verify_code,
    redacted,
    with_verify_code,
)
from atrium.notify.errors import (
    InvalidPhone,
    InvalidPushSubscription,
    PushDeliveryFailed,
    PushSubscriptionGone,
    PushSubscriptionNotFound,
)
from atrium.notify.models import PushSubscription, SentMessage, SentPush
from atrium.notify.push import OutgoingPush, PushTarget
from atrium.notify.senders import OutgoingSms

__all__ = [
    "PushOutcome", "PushSubscription", "SentMessage", "SentPush", "e164", "find_by_verify_code",
    "mask_phone", "normalise_phone", "outbox", "push_outbox", "push_subscriptions", "recipient_index",
    "send_push", "send_sms", "subscribe_push", "unsubscribe_push",
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


# --- push -------------------------------------------------------------------------------------------

ENDPOINT_MAX = 2000


def _b64url(value: str, size: int, field: str) -> str:
    text = (value or "").strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error) as exc:
        raise InvalidPushSubscription(f"{field} is not base64url", field=field) from exc
    if len(raw) != size or (field == "p256dh" and raw[0] != 4):
        raise InvalidPushSubscription(f"{field} is not a {size}-byte key", field=field)
    return text.rstrip("=")


def _endpoint(value: str) -> str:
    text = (value or "").strip()
    parts = urlsplit(text)
    # Push services are reached over TLS only; anything else could point the bank's server anywhere.
    if len(text) > ENDPOINT_MAX or parts.scheme != "https" or not parts.hostname or parts.username:
        raise InvalidPushSubscription("the endpoint must be an https URL of a push service", field="endpoint")
    return text


def subscribe_push(
    session: Session, *, customer_id: str, endpoint: str, p256dh: str, auth: str, device_label: str = ""
) -> PushSubscription:
    """Store a browser's push subscription for the customer. Subscribing the same endpoint again is the
    same subscription (keys refreshed, re-activated); a browser now used by another customer moves to them,
    so the previous customer's notifications stop reaching it."""
    url = _endpoint(endpoint)
    key, secret = _b64url(p256dh, 65, "p256dh"), _b64url(auth, 16, "auth")
    digest = hashlib.sha256(url.encode()).hexdigest()
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint_hash == digest))
    if row is None:
        row = PushSubscription(id=new_id("psub"), endpoint=url, endpoint_hash=digest, customer_id=customer_id,
                               p256dh=key, auth=secret, created_at=clock.now())
        session.add(row)
    else:
        row.customer_id, row.p256dh, row.auth = customer_id, key, secret
        row.revoked_at = row.revoked_reason = None
    row.device_label = device_label.strip()[:80]
    session.flush()
    return row


def unsubscribe_push(session: Session, *, customer_id: str, subscription_id: str) -> PushSubscription:
    """Stop pushing to one of the customer's browsers (another customer's id: not found). Idempotent."""
    row = session.get(PushSubscription, subscription_id)
    if row is None or row.customer_id != customer_id:
        raise PushSubscriptionNotFound("no such push subscription")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = clock.now(), "customer"
        session.flush()
    return row


def push_subscriptions(session: Session, customer_id: str) -> list[PushSubscription]:
    """The customer's active subscriptions, oldest first."""
    return list(session.scalars(
        select(PushSubscription)
        .where(PushSubscription.customer_id == customer_id, PushSubscription.revoked_at.is_(None))
        .order_by(PushSubscription.created_at, PushSubscription.id)
    ))


@dataclass(frozen=True)
class PushOutcome:
    sender: str | None  # None: push is off
    devices: int = 0  # subscriptions tried (the outbox: 0)
    delivered: int = 0
    gone: int = 0  # subscriptions the push service no longer knows (now revoked)
    failed: int = 0  # transient failures: worth another try

    @property
    def retry(self) -> bool:
        """Nothing reached the customer but something might next time."""
        return self.delivered == 0 and self.failed > 0


def _record_push(session: Session, customer_id: str, sub_id: str | None, message: OutgoingPush, sender: str,
                 ref: str | None) -> None:
    session.add(SentPush(
        id=new_id("push"), customer_id=customer_id, subscription_id=sub_id, category=message.category[:40],
        title=message.title[:200], body=message.body, url=message.url[:300], tag=message.tag[:40],
        sender=sender, provider_ref=ref, sent_at=clock.now(),
    ))


def send_push(
    session: Session, *, customer_id: str, title: str, body: str, url: str, tag: str, category: str
) -> PushOutcome:
    """Push a notification to each of the customer's subscribed browsers (the outbox sender records one
    delivery without any). Each delivery is recorded; a subscription the push service reports gone is
    revoked; transient failures are counted, not raised, so one dead browser does not block the others."""
    sender = push.current()
    if sender is None:
        return PushOutcome(sender=None)
    message = OutgoingPush(title=title, body=body, url=url, tag=tag, category=category)
    if not sender.needs_device:
        _record_push(session, customer_id, None, message, sender.name, sender.send(None, message))
        session.flush()
        return PushOutcome(sender=sender.name, delivered=1)
    subs = push_subscriptions(session, customer_id)
    delivered = gone = failed = 0
    for sub in subs:
        try:
            ref = sender.send(PushTarget(sub.endpoint, sub.p256dh, sub.auth), message)
        except PushSubscriptionGone:
            sub.revoked_at, sub.revoked_reason = clock.now(), "gone"
            gone += 1
            continue
        except PushDeliveryFailed:
            failed += 1
            continue
        sub.last_sent_at = clock.now()
        _record_push(session, customer_id, sub.id, message, sender.name, ref)
        delivered += 1
    session.flush()
    return PushOutcome(sender=sender.name, devices=len(subs), delivered=delivered, gone=gone, failed=failed)


def push_outbox(session: Session, *, limit: int = 20) -> list[SentPush]:
    """The latest push notifications, newest first (the development outbox page)."""
    limit = max(1, min(limit, OUTBOX_MAX))
    stmt = select(SentPush).order_by(SentPush.sent_at.desc(), SentPush.id.desc()).limit(limit)
    return list(session.scalars(stmt))
