"""Tables of merchants: the merchant and its settlement ledger accounts (one per currency)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # mer_…
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(24))  # an MCC-like group: groceries, dining, …
    city: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | suspended | closed
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (Index("ix_merchants_status_name", "status", "name"),)


class MerchantAccount(Base):
    """The merchant's settlement account in one currency: a ledger liability owned by the ledger domain."""

    __tablename__ = "merchant_accounts"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    ledger_account_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (UniqueConstraint("ledger_account_id", name="uq_merchant_accounts_ledger_account"),)
