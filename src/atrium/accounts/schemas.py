"""I/O models of the accounts domain (API bodies and what services return to other domains)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Product = Literal["current", "savings"]
Status = Literal["open", "closed"]
Direction = Literal["in", "out"]


class AccountOpen(BaseModel):
    """Open a deposit account. Savings accounts earn the bank's savings rate, accrued daily."""

    model_config = ConfigDict(extra="forbid")
    product: Product
    currency: str = Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", examples=["CNY"])
    nickname: str | None = Field(default=None, max_length=40)


class DepositAccountRead(BaseModel):
    """A deposit account with its ledger balances. `booked_minor` is posted money; `available_minor` also
    subtracts money reserved by pending holds (what can be spent now)."""

    id: str
    customer_id: str
    product: Product
    currency: str
    number: str
    masked_number: str = Field(examples=["6222 **** **** 1234"])
    nickname: str | None
    status: Status
    ledger_account_id: str
    booked_minor: int
    available_minor: int
    opened_at: datetime
    closed_at: datetime | None = None
    interest_rate_bp: int = Field(0, description="Yearly interest rate in basis points (savings only)")


class AccountDirectoryEntry(BaseModel):
    """What a payer may learn about an Atrium account from its number: enough to confirm the payee,
    nothing that would let them spend from it."""

    id: str
    currency: str
    status: Status
    masked_number: str
    masked_owner_name: str | None = Field(None, examples=["*三"])


class StatementEntryRead(BaseModel):
    journal_id: str
    posted_at: datetime
    direction: Direction
    amount_minor: int = Field(
        description="Always positive; `direction` says whether money came in or went out"
    )
    currency: str
    kind: str
    description: str
    balance_after_minor: int


class StatementPage(BaseModel):
    account_id: str
    currency: str
    entries: list[StatementEntryRead]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next (older) page")


class StatementFilters(BaseModel):
    """Statement filters; dates are bank-local (China Standard Time) calendar days, both inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    date_from: date | None = None
    date_to: date | None = None
    direction: Direction | None = None
    kinds: tuple[str, ...] = ()
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    text: str | None = None


class StatementTotals(BaseModel):
    count: int
    money_in_minor: int
    money_out_minor: int


class Statement(BaseModel):
    """A whole period's statement, as exported to CSV and PDF (entries oldest first)."""

    account: DepositAccountRead
    owner_name: str | None
    date_from: date
    date_to: date
    opening_balance_minor: int
    closing_balance_minor: int
    entries: list[StatementEntryRead]
    totals: StatementTotals
    generated_at: datetime


class InterestPostingRead(BaseModel):
    account_id: str
    period: str
    amount_minor: int
    currency: str
    journal_id: str
    days: int
