"""Scheduled and standing order I/O models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.payments.orders.domain import MAX_OCCURRENCES, Frequency
from atrium.payments.schemas import AtriumDestination, OwnDestination, PayeeDestination

# A standing order goes to an own account, an Atrium account (by number) or a saved payee; a one-off
# external account is saved as a payee first, so the customer has named and checked it once.
OrderDestination = Annotated[
    OwnDestination | AtriumDestination | PayeeDestination, Field(discriminator="type")
]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_account_id: Annotated[str, Field(min_length=1, max_length=40)]
    to: OrderDestination
    amount_minor: Annotated[int, Field(strict=True, ge=1, le=MAX_AMOUNT_MINOR)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    memo: Annotated[str, Field(max_length=140)] = ""
    frequency: Frequency
    start_on: date = Field(description="The first payment date (bank calendar, Asia/Shanghai)")
    day_of_month: Annotated[int | None, Field(ge=1, le=31, description="Monthly: the day (31 = last)")] = None
    end_on: date | None = Field(None, description="Last possible payment date, inclusive")
    count: Annotated[int | None, Field(ge=1, le=MAX_OCCURRENCES, description="Number of payments")] = None


class ExecutionRead(BaseModel):
    occurrence_index: int
    occurrence_on: date
    status: str = Field(description="paid | sent (interbank: see the transfer for settlement) | failed")
    transfer_id: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    executed_at: datetime


class OrderRead(BaseModel):
    id: str
    status: str  # active | completed | suspended | cancelled
    frequency: str
    start_on: date
    day_of_month: int | None
    end_on: date | None
    count: int | None
    from_account_id: str
    to_type: str
    to_display: str
    amount_minor: int
    currency: str
    memo: str
    next_run_on: date | None
    occurrences_handled: int
    consecutive_failures: int
    created_at: datetime
    ended_at: datetime | None = None


class OrderDetail(OrderRead):
    executions: list[ExecutionRead] = Field(description="Newest first")
