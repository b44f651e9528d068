"""Delivering pending notifications (SMS, push) and the delivery log.

The delivery job (`atrium.messages.tasks`) takes due notifications one at a time: `claim` moves the row's
due time a lease ahead and counts the attempt (its own short transaction), then `deliver_one` hands the
message to notify's sender and records the outcome in one transaction. So:
- a crash after the claim leaves the row pending; when the lease runs out it is tried again (nothing is
  lost; at worst a notification whose hand-over succeeded just before the crash is sent twice);
- a sender that fails (`SmsDeliveryFailed`, push services all failing) is retried with backoff, and
  after `messages.max_attempts` attempts the notification is `failed`, never silently dropped;
- a customer without a phone (SMS), or without a subscribed browser (push), is `skipped`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.messages import domain
from atrium.messages import repository as repo
from atrium.messages.models import Message, Notification
from atrium.messages.schemas import DeliveryLog
from atrium.notify import service as notify
from atrium.notify.errors import SmsDeliveryFailed


@dataclass(frozen=True)
class Due:
    notification_id: str
    due_at: datetime


def due(session: Session, *, limit: int | None = None, now: datetime | None = None) -> list[Due]:
    settings = get_settings().messages
    rows = repo.due(session, now or clock.now(), limit or settings.delivery_batch)
    return [Due(i, at) for i, at in rows]


def claim(session: Session, item: Due) -> bool:
    lease = clock.now() + timedelta(seconds=get_settings().messages.claim_lease_s)
    return repo.claim(session, item.notification_id, item.due_at, lease)


def _finish(row: Notification, status: str, error: str | None = None) -> str:
    row.status, row.finished_at, row.last_error = status, clock.now(), error
    return status


def _retry_or_fail(row: Notification, error: str) -> str:
    cfg = get_settings().messages
    row.last_error = error
    if row.attempts >= cfg.max_attempts:
        return _finish(row, "failed", error)
    delay = domain.retry_delay_s(row.attempts, cfg.retry_base_s, cfg.retry_cap_s)
    row.next_attempt_at = clock.now() + timedelta(seconds=delay)
    return "retry"


def record_failure(session: Session, notification_id: str, error: str) -> str:
    """After `deliver_one` raised (a bug, the database): count it like a sender failure."""
    row = repo.notification(session, notification_id)
    if row is None or row.status != "pending":
        return "gone"
    outcome = _retry_or_fail(row, error[:40])
    session.flush()
    return outcome


def _sms(session: Session, row: Notification, message: Message) -> str:
    customer = identity.get_customer(session, row.customer_id)
    phone = identity.phone_of(customer) if customer is not None else None
    if not phone:
        return _finish(row, "skipped", "no-phone")
    try:
        # A savepoint: a refused hand-over leaves no "sent" record behind, only the retry.
        with session.begin_nested():
            notify.send_sms(
                session, phone=phone, text=domain.sms_text(message.title, message.body, message.locale),
                category=f"messages.{message.category}", customer_id=row.customer_id, locale=message.locale,
            )
    except SmsDeliveryFailed as exc:
        return _retry_or_fail(row, exc.code)
    return _finish(row, "sent")


def _push(session: Session, row: Notification, message: Message) -> str:
    outcome = notify.send_push(
        session, customer_id=row.customer_id, title=message.title, body=message.body,
        url=f"/messages/{message.id}", tag=message.id, category=f"messages.{message.category}",
    )
    if outcome.sender is None:
        return _finish(row, "skipped", "push-off")
    if outcome.delivered:
        return _finish(row, "sent")
    if outcome.retry:
        return _retry_or_fail(row, "push-delivery-failed")
    return _finish(row, "skipped", "no-device")


def deliver_one(session: Session, notification_id: str) -> str:
    """Hand one claimed notification over; returns sent | skipped | failed | retry | gone."""
    row = repo.notification(session, notification_id)
    if row is None or row.status != "pending":
        return "gone"  # another runner finished it
    message = repo.message(session, row.message_id)
    if message is None or message.deleted_at is not None:
        outcome = _finish(row, "skipped", "deleted")
    elif row.channel == "sms":
        outcome = _sms(session, row, message)
    elif row.channel == "push":
        outcome = _push(session, row, message)
    else:
        outcome = _finish(row, "failed", "unknown-channel")
    session.flush()
    return outcome


def delivery_log(session: Session, *, since: datetime | None = None) -> DeliveryLog:
    """Counts by channel and status, error codes, and messages by category: nothing about any customer."""
    by_channel: dict[str, dict[str, int]] = {}
    for channel, status, count in repo.delivery_counts(session, since):
        by_channel.setdefault(channel, {})[status] = count
    errors: dict[str, dict[str, int]] = {}
    for channel, error, count in repo.error_counts(session, since):
        errors.setdefault(channel, {})[error] = count
    return DeliveryLog(by_channel=by_channel, errors=errors, messages=repo.counts_by_category(session, since),
                       since=since)
