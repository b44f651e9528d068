from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class BankLimit(Base):
    """The bank's limit for one channel, method and currency. A missing row falls back to the built-in
    default (`domain.DEFAULT_BANK_LIMITS`); `ensure_default_bank_limits` writes those rows out."""

    __tablename__ = "limits_bank"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    per_transaction_minor: Mapped[int]
    daily_minor: Mapped[int]
    monthly_minor: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_by: Mapped[str | None] = mapped_column(String(40), default=None)  # staff id; None = seeded

    __table_args__ = (
        CheckConstraint(
            "0 <= per_transaction_minor AND per_transaction_minor <= daily_minor"
            " AND daily_minor <= monthly_minor",
            name="ordered",
        ),
    )


class OwnLimit(Base):
    """The customer's own limit for one method and currency; NULL means "the bank's limit"."""

    __tablename__ = "limits_own"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    per_transaction_minor: Mapped[int | None] = mapped_column(default=None)
    daily_minor: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class PaymentSwitches(Base):
    """The customer's payment switches. No row means the defaults of `domain.Switches`."""

    __tablename__ = "limits_switches"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    online_payments: Mapped[bool]
    overseas: Mapped[bool]
    night_time: Mapped[bool]
    qr_payments: Mapped[bool]
    card_not_present: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class UsageCounter(Base):
    """How much a customer has paid by one method in one currency in one Shanghai day or month.

    The row is the lock: `check_and_reserve` inserts it if missing and takes it FOR UPDATE, so concurrent
    payments of one customer serialize on it while other customers' payments do not wait.
    """

    __tablename__ = "limits_usage"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # day | month
    period_key: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2024-05-01 | 2024-05
    used_minor: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (CheckConstraint("used_minor >= 0", name="not_negative"),)


class LimitChange(Base):
    """Audit of every change to a limit or switch: who, what, old → new, when. Append-only."""

    __tablename__ = "limits_audit"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))  # None: a bank limit
    actor_kind: Mapped[str] = mapped_column(String(16))  # customer | staff
    actor_id: Mapped[str] = mapped_column(String(40))
    setting: Mapped[str] = mapped_column(String(80))  # own:internal_transfer:CNY | switch:overseas | bank:…
    old_value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (Index("ix_limits_audit_customer", "customer_id", "changed_at"),)
