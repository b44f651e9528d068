"""The anti-phishing check's tables: the bank's registered channels and the audit of their changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class RegisteredChannel(Base):
    """A web domain, e-mail domain, phone number or SMS short code / sender id the bank really uses.

    `value` is the normal form the check matches (`domain.normalise_channel`); `display` is how staff
    wrote it. A channel is never deleted: retiring it keeps the row (and who added and retired it). At
    most one *active* row per kind and value.
    """

    __tablename__ = "phishing_channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # web | email | phone | sms
    value: Mapped[str] = mapped_column(String(255))
    display: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(120))
    include_subdomains: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    added_by: Mapped[str | None] = mapped_column(String(40), default=None)  # staff id; None = shipped default
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    retired_by: Mapped[str | None] = mapped_column(String(40), default=None)

    __table_args__ = (
        Index("ix_phishing_channels_kind_value", "kind", "value"),
        Index(
            "uq_phishing_channels_active", "kind", "value", unique=True,
            sqlite_where=text("active"), postgresql_where=text("active"),
        ),
    )


class ChannelChange(Base):
    """Audit of every change to the registered channels: who, what, when. Append-only."""

    __tablename__ = "phishing_channel_changes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("phishing_channels.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # seeded | added | retired
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff | system
    actor_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
