from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class OutboxEvent(Base):
    """One integration event, written in the producer's transaction; `published_at` set by the relay."""

    __tablename__ = "event_outbox"

    # An integer sequence gives the relay a strict publication order (ids are only time-ordered).
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    aggregate_id: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index(
            "ix_event_outbox_unpublished",
            "seq",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )


class InboxEntry(Base):
    """A consumer's record that it has handled an event: the key to exactly-once effects."""

    __tablename__ = "event_inbox"

    consumer: Mapped[str] = mapped_column(String(80), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
