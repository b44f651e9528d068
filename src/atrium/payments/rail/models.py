"""The simulated rail's own state. These tables stand in for the clearing system's database: only
`rail.simulated` touches them, in its own transactions, so they survive a restart of Atrium exactly as an
external system's state would."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base, MinorUnits
from atrium.kit import clock


class RailInstruction(Base):
    __tablename__ = "rail_instructions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the sender's instruction id
    bank_code: Mapped[str] = mapped_column(String(11))
    account_number: Mapped[str] = mapped_column(String(34))
    account_name: Mapped[str] = mapped_column(String(120))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    remittance: Mapped[str] = mapped_column(String(140), default="")
    accepted_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    # Decided once, at acceptance, so a restart or a re-submission cannot change what happens.
    outcome: Mapped[str] = mapped_column(String(16))  # settled | returned
    reason_code: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(120))
    resolves_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)


class RailNotification(Base):
    __tablename__ = "rail_notifications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instruction_id: Mapped[str] = mapped_column(ForeignKey("rail_instructions.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(120))
    available_at: Mapped[datetime]
    acked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "ix_rail_notifications_unacked",
            "available_at",
            sqlite_where=text("acked_at IS NULL"),
            postgresql_where=text("acked_at IS NULL"),
        ),
    )
