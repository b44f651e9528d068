"""Tables of scheduled and standing orders and their executions (one row per paid or failed occurrence)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base, MinorUnits
from atrium.kit import clock


class StandingOrder(Base):
    __tablename__ = "standing_orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # sto_…
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    frequency: Mapped[str] = mapped_column(String(16))  # once | weekly | monthly
    start_on: Mapped[date]
    day_of_month: Mapped[int | None] = mapped_column(Integer)  # monthly only
    end_on: Mapped[date | None]
    max_occurrences: Mapped[int | None] = mapped_column(Integer)
    from_account_id: Mapped[str] = mapped_column(String(40))
    # The destination as the customer named it; resolved again at every occurrence (an account may close).
    to_type: Mapped[str] = mapped_column(String(16))  # own | atrium | payee
    to_account_id: Mapped[str | None] = mapped_column(String(40))
    to_account_number: Mapped[str | None] = mapped_column(String(34))
    to_payee_id: Mapped[str | None] = mapped_column(String(40))
    to_display: Mapped[str] = mapped_column(String(160))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(140), default="")
    status: Mapped[str] = mapped_column(String(16))  # active | completed | suspended | cancelled
    next_index: Mapped[int] = mapped_column(Integer, default=0)  # occurrences already handled
    next_run_on: Mapped[date | None]  # the date of occurrence `next_index`; NULL once none is left
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # completed, suspended or cancelled

    __table_args__ = (
        UniqueConstraint(
            "customer_id", "idempotency_key", name="uq_standing_orders_customer_idempotency_key"
        ),
        Index("ix_standing_orders_customer", "customer_id", "id"),
        Index("ix_standing_orders_due", "status", "next_run_on"),  # the job's work queue
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )


class OrderExecution(Base):
    """What happened to one occurrence: paid (with its transfer) or failed (with the reason)."""

    __tablename__ = "standing_order_executions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # soe_…
    order_id: Mapped[str] = mapped_column(ForeignKey("standing_orders.id"))
    occurrence_index: Mapped[int] = mapped_column(Integer)
    occurrence_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))  # paid | sent (to the clearing rail) | failed
    transfer_id: Mapped[str | None] = mapped_column(String(40))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    executed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (
        UniqueConstraint("order_id", "occurrence_on", name="uq_standing_order_executions_order_date"),
        UniqueConstraint("order_id", "occurrence_index", name="uq_standing_order_executions_order_index"),
    )
