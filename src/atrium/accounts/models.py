"""Tables of the accounts domain. Balances are not stored here: the ledger account is the one truth."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class DepositAccount(Base):
    """A customer's current or savings account: the product wrapper around one ledger liability account."""

    __tablename__ = "deposit_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    product: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    number: Mapped[str] = mapped_column(String(19))
    nickname: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(8), default="open")
    # The ledger owns this id; no foreign key, because a domain never reaches another domain's tables.
    ledger_account_id: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("number", name="uq_deposit_accounts_number"),
        UniqueConstraint("ledger_account_id", name="uq_deposit_accounts_ledger_account_id"),
        Index("ix_deposit_accounts_customer", "customer_id", "opened_at"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("product IN ('current', 'savings')", name="product"),
    )


class InterestAccrual(Base):
    """One day's interest on one savings account. (account, day) is unique, so a re-run accrues nothing
    twice; `carry_after` is the sub-minor-unit remainder (in 1/3,650,000 of a minor unit) handed to the next
    day. `posted_journal_id` is the ledger journal that paid it."""

    __tablename__ = "deposit_interest_accruals"

    account_id: Mapped[str] = mapped_column(ForeignKey("deposit_accounts.id"), primary_key=True)
    accrual_date: Mapped[date] = mapped_column(Date, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM of accrual_date, the month it is paid for
    balance_minor: Mapped[int]
    rate_bp: Mapped[int]
    amount_minor: Mapped[int]
    carry_after: Mapped[int]
    posted_journal_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # Set when the day's interest was paid (or, for a month that earned nothing, settled without a journal).
    settled_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (
        Index("ix_deposit_interest_accruals_unsettled", "account_id", "settled_at", "period"),
        CheckConstraint("amount_minor >= 0 AND carry_after >= 0 AND rate_bp >= 0", name="non_negative"),
    )
