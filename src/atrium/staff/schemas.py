from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AccessRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    staff_id: str
    staff_role: str
    action: str
    customer_id: str | None
    reason: str
    detail: str
    occurred_at: datetime


class AccessPage(BaseModel):
    items: list[AccessRecordRead]
    next_cursor: str | None = None


class CustomerSummary(BaseModel):
    """A customer as a staff list shows them: masked by default."""

    id: str
    masked_name: str
    masked_username: str
    status: str
    locale: str
    created_at: datetime


class CustomerSearchPage(BaseModel):
    items: list[CustomerSummary]
    next_cursor: str | None = None
    access: AccessRecordRead | None = None  # the audit record of this search (None: nothing was searched)


class AccountLine(BaseModel):
    """A deposit account on the staff customer page: masked number, balances."""

    id: str
    product: str
    currency: str
    masked_number: str
    status: str
    booked_minor: int
    available_minor: int
    opened_at: datetime


class TransferLine(BaseModel):
    """A transfer on the staff customer page; the counterparty (a third party) is masked too."""

    id: str
    kind: str
    status: str
    channel: str
    from_masked_number: str | None
    to_type: str
    to_bank_code: str | None
    to_masked_number: str | None
    to_masked_name: str | None
    amount_minor: int
    currency: str
    failure_code: str | None
    created_at: datetime
    settled_at: datetime | None


class CustomerView(BaseModel):
    """Everything the staff customer page shows, with the audit record that let it be shown."""

    customer: CustomerSummary
    accounts: list[AccountLine]
    transfers: list[TransferLine]
    access: AccessRecordRead
