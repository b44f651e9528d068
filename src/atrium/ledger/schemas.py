"""What the ledger returns to other domains and to the staff API (and `LegSpec`, what it takes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atrium.ledger.domain import LegSpec

__all__ = [
    "Discrepancy",
    "EntryPage",
    "EntryRead",
    "HoldRead",
    "JournalRead",
    "LedgerAccountRead",
    "LedgerCheckReport",
    "LegRead",
    "LegSpec",
    "TransferRequest",
    "TrialBalanceLine",
]


class LedgerAccountRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    code: str | None
    name: str
    type: Literal["asset", "liability", "income", "expense", "equity"]
    currency: str
    enforce_floor: bool
    overdraft_limit_minor: int
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    booked_minor: int  # in the account's normal direction
    pending_debits_minor: int
    pending_credits_minor: int
    available_minor: int  # booked minus pending reductions (what may be spent, before any overdraft)
    created_at: datetime


class LegRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    side: Literal["debit", "credit"]
    amount_minor: int
    currency: str
    balance_after_minor: int


class JournalRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    description: str
    metadata: dict[str, Any]
    posted_at: datetime
    reverses_id: str | None = None
    hold_id: str | None = None
    legs: list[LegRead]


class HoldRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    status: Literal["pending", "posted", "voided", "expired"]
    kind: str
    description: str
    metadata: dict[str, Any]
    expires_at: datetime
    created_at: datetime
    resolved_at: datetime | None
    posted_amount_minor: int | None


class EntryRead(BaseModel):
    """One leg of one account, as a statement line."""

    model_config = ConfigDict(frozen=True)

    id: int
    journal_id: str
    posted_at: datetime
    side: Literal["debit", "credit"]
    amount_minor: int
    currency: str
    kind: str
    description: str
    metadata: dict[str, Any]
    balance_after_minor: int
    reverses_id: str | None = None


class EntryPage(BaseModel):
    items: list[EntryRead]
    next_cursor: str | None = None


class TrialBalanceLine(BaseModel):
    currency: str
    debits_minor: int
    credits_minor: int
    difference_minor: int  # debits − credits: zero when the ledger balances
    balanced: bool
    accounts: int = 0


class Discrepancy(BaseModel):
    check: str  # which rule: trial-balance, journal-balance, posted-totals, pending-totals, ...
    subject_id: str
    detail: str
    expected: int | str | None = None
    actual: int | str | None = None


class LedgerCheckReport(BaseModel):
    ok: bool
    checked_at: datetime
    trial_balance: dict[str, TrialBalanceLine]
    accounts_checked: int
    journals_checked: int
    discrepancies: list[Discrepancy] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """One transfer of a `post_transfers` batch; the same fields as `post_transfer`."""

    idempotency_key: str
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    kind: str
    description: str = ""
    metadata: dict[str, Any] | None = None
