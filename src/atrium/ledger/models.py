"""Ledger tables: accounts (with TigerBeetle's four cached totals), journals, legs, holds.

Journals and legs are append-only (PostgreSQL triggers in ddl.py). Holds change status once
(pending → posted | voided | expired) and are otherwise immutable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock
from atrium.kit.money import MAX_AMOUNT_MINOR

_TYPES = "'asset', 'liability', 'income', 'expense', 'equity'"


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(f"type IN ({_TYPES})", name="type"),
        CheckConstraint("overdraft_limit_minor >= 0", name="overdraft_limit"),
        CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
            name="totals_non_negative",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Bank-internal accounts are found by a stable code such as "bank:settlement:CNY".
    code: Mapped[str | None] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(8))
    enforce_floor: Mapped[bool] = mapped_column(Boolean, default=True)
    overdraft_limit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class Journal(Base):
    __tablename__ = "ledger_journals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The ledger's own idempotency: even a caller that bypasses the edge's key store cannot post twice.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(500), default="")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # Unique: a journal is reversed at most once, even by two concurrent reversals.
    reverses_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_journals.id"), unique=True)
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_holds.id"), index=True)
    posted_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class Leg(Base):
    __tablename__ = "ledger_legs"
    __table_args__ = (
        CheckConstraint("side IN ('debit', 'credit')", name="side"),
        CheckConstraint(f"amount_minor > 0 AND amount_minor <= {MAX_AMOUNT_MINOR}", name="amount"),
        # Statements read one account's legs newest first: (account_id, id) is their keyset order.
        Index("ix_ledger_legs_account_id_id", "account_id", "id"),
    )

    # An integer sequence: legs of one account are inserted while its row is locked, so their ids grow in
    # commit order — a stable keyset cursor for statements.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    journal_id: Mapped[str] = mapped_column(ForeignKey("ledger_journals.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    side: Mapped[str] = mapped_column(String(6))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class Hold(Base):
    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'posted', 'voided', 'expired')", name="status"),
        CheckConstraint(f"amount_minor > 0 AND amount_minor <= {MAX_AMOUNT_MINOR}", name="amount"),
        # The expiry job's scan: pending holds by expiry time.
        Index("ix_ledger_holds_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # A void has no journal to carry its key, so the hold carries it.
    void_idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    void_request_hash: Mapped[str | None] = mapped_column(String(64))
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(500), default="")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    posted_amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
