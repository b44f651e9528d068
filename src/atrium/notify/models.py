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
