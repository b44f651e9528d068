from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class SentMessage(Base):
    """One message the bank sent (or, with the outbox sender, would have sent): the outbox and the record
    the anti-phishing check reads. The recipient is a blind index plus a masked form, never the number."""

    __tablename__ = "notify_messages"
    __table_args__ = (Index("ix_notify_messages_recipient_sent", "recipient_hash", "sent_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms
    recipient_hash: Mapped[str] = mapped_column(String(64))
    recipient_masked: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    category: Mapped[str] = mapped_column(String(40))  # e.g. otp.login, otp.step-up, security.alert
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    body: Mapped[str] = mapped_column(Text)
    verify_code: Mapped[str] = mapped_column(String(9), unique=True)
    sender: Mapped[str] = mapped_column(String(16))  # outbox | http
    provider_ref: Mapped[str | None] = mapped_column(String(120), default=None)
    sent_at: Mapped[datetime] = mapped_column(default=lambda: clock.now(), index=True)



class PushSubscription(Base):
    """One browser's Web Push subscription for a customer (the Push API's endpoint and keys). The endpoint
    is a capability URL: it is stored to send to, never logged or shown; `endpoint_hash` finds it again
    when the same browser subscribes twice. Revoked rows stay (`revoked_at`, and why) for the log."""

    __tablename__ = "notify_push_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    device_label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(16), default=None)  # customer | gone


class SentPush(Base):
    """One push notification handed to a push service (or, with the outbox sender, recorded only)."""

    __tablename__ = "notify_pushes"
    __table_args__ = (Index("ix_notify_pushes_customer_sent", "customer_id", "sent_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    subscription_id: Mapped[str | None] = mapped_column(String(40), default=None)  # None: the outbox
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(300))
    tag: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(String(16))  # outbox | webpush
    provider_ref: Mapped[str | None] = mapped_column(String(120), default=None)
    sent_at: Mapped[datetime] = mapped_column(default=lambda: clock.now(), index=True)
