"""The customer's preference changes: an append-only record of every change to how the app is set up for
them (today the display mode), with the session that made it. A change to elder mode also changes how
money leaves (a second confirmation that reads the amount and payee back), so switching it off is worth
knowing about when a customer says they were coached by a fraudster."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class PreferenceChange(Base):
    __tablename__ = "customer_preference_changes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(40))  # "ui_mode"
    old_value: Mapped[str | None] = mapped_column(String(40), default=None)
    new_value: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16), default="mobile")  # mobile | api
    sid: Mapped[str | None] = mapped_column(String(40), default=None)  # the session that made it, if known
    occurred_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (Index("ix_customer_preference_changes_customer", "customer_id", "id"),)
