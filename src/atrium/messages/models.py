"""The inbox's tables: templates and their versions, messages, pending notifications, preferences, service
notices and broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class MessageTemplate(Base):
    """A template's identity; its words live in versions (`current_version` is the one used to send)."""

    __tablename__ = "msg_templates"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    builtin: Mapped[bool] = mapped_column(default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class TemplateVersion(Base):
    """One version of a template's words, channels and link; never changed once written (an edit adds a
    version), so a message can always say which words it was made from."""

    __tablename__ = "msg_template_versions"

    template_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    title_zh: Mapped[str] = mapped_column(String(120))
    body_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(String(120))
    body_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300), default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(40))  # a staff id, or "system" for the built-ins
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class Message(Base):
    """One message in a customer's inbox, rendered in their language when it was sent. `dedup_key` makes
    every write idempotent: an event's id, a notice's id, a broadcast's id."""

    __tablename__ = "msg_messages"
    __table_args__ = (
        UniqueConstraint("customer_id", "dedup_key", name="uq_msg_messages_customer_dedup"),
        Index("ix_msg_messages_customer_state", "customer_id", "deleted_at", "read_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300), default=None)
    locale: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # event | notice | broadcast
    template_key: Mapped[str | None] = mapped_column(String(60), default=None)
    template_version: Mapped[int | None] = mapped_column(Integer, default=None)
    dedup_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Notification(Base):
    """A message to hand to one channel (SMS, push), written with the message and delivered by a job:
    pending → sent | failed | skipped (no phone, no device, push off). Retries back off; a crash between
    claim and result leaves it pending with a lease that runs out."""

    __tablename__ = "msg_notifications"
    __table_args__ = (
        UniqueConstraint("message_id", "channel", name="uq_msg_notifications_message_channel"),
        Index("ix_msg_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    last_error: Mapped[str | None] = mapped_column(String(40), default=None)  # an error code, never text
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Preference(Base):
    """A customer's message settings; no row means the defaults (no marketing, default channels)."""

    __tablename__ = "msg_preferences"

    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    marketing_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    channels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class Notice(Base):
    """A service notice staff published: shown on the home page within its window to its audience, and
    (with `to_inbox`) put in those customers' inboxes by a broadcast."""

    __tablename__ = "msg_notices"
    __table_args__ = (Index("ix_msg_notices_window", "status", "starts_at", "ends_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(120))
    body_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(String(120))
    body_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300), default=None)
    audience: Mapped[str] = mapped_column(String(20), default="all")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    to_inbox: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(12), default="published")  # published | withdrawn
    # The publishing form's one-time key: a double submit publishes once.
    request_key: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    withdrawn_by: Mapped[str | None] = mapped_column(String(40), default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)


class Broadcast(Base):
    """Putting one notice or marketing template into many inboxes, a batch of customers per job run.
    Customers are walked newest id first; `cursor` is the last id done, so a restart goes on from there."""

    __tablename__ = "msg_broadcasts"
    __table_args__ = (Index("ix_msg_broadcasts_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # notice | marketing
    notice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    template_key: Mapped[str | None] = mapped_column(String(60), default=None)
    template_version: Mapped[int | None] = mapped_column(Integer, default=None)
    audience: Mapped[str] = mapped_column(String(20), default="all")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | running | done | cancelled
    cursor: Mapped[str | None] = mapped_column(String(40), default=None)
    request_key: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    reached: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
