"""What the staff use cases return: customer data already masked, each with the audit record of its read.
Only `RevealedField.value` is ever in clear, and only after its own audit record was written."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AccessRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    staff_id: str
    staff_role: str
    action: str
    customer_id: str | None
    screen: str
    reason_category: str
    reason: str
    detail: str
    occurred_at: datetime
    session_ref: str | None = None  # the staff session's public id (None: written outside a console request)
    ip: str | None = None


class AccessPage(BaseModel):
    items: list[AccessRecordRead]
    next_cursor: str | None = None


class AccessExport(BaseModel):
    """The CSV of the filtered records, and the audit record of the export itself."""

    filename: str
    rows: int
    csv: str
    access: AccessRecordRead


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
    """A transfer on staff screens; the counterparty (a third party) is masked too. The memo (the
    customer's own words) is never shown to staff."""

    id: str
    kind: str
    status: str
    channel: str
    from_account_id: str
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


# --- the customer 360 ----------------------------------------------------------------------------------


class LockLine(BaseModel):
    state: str  # none | temporary | permanent (effective now)
    locked_until: datetime | None
    locked_at: datetime | None
    failed_logins: int
    recent_locks: int


class KycLine(BaseModel):
    field: str  # legal_name | id_number | phone | email | address
    masked: str | None  # None: not on file


class IdentityLine(BaseModel):
    id: str
    kind: str  # person | company_operator | merchant
    org_name: str
    org_ref: str
    role: str
    created_at: datetime


class DeviceLine(BaseModel):
    """A bound device. `label` is derived from its browser, not the name the customer gave it (which may
    hold their own name)."""

    id: str
    label: str
    trusted: bool
    cooling_off: bool
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class SignInLine(BaseModel):
    occurred_at: datetime
    outcome: str
    method: str
    masked_ip: str
    place_zh: str
    place_en: str
    device: str


class OwnLimitLine(BaseModel):
    method: str
    currency: str
    per_transaction_minor: int | None
    daily_minor: int | None


class LimitChangeLine(BaseModel):
    """A change to the customer's own limits or switches. `kind` "own" (a limit: `subject` the payment
    method, with `currency`), "switch" (`subject` the switch), or "other" (shown as recorded)."""

    setting: str
    kind: Literal["own", "switch", "other"]
    subject: str
    currency: str | None
    actor_kind: str
    old_value: dict[str, object] | None
    new_value: dict[str, object]
    changed_at: datetime


class OverviewSection(BaseModel):
    name: Literal["overview"] = "overview"
    accounts: list[AccountLine]
    transfers: list[TransferLine]


class IdentitiesSection(BaseModel):
    name: Literal["identities"] = "identities"
    identities: list[IdentityLine]


class SecuritySection(BaseModel):
    name: Literal["security"] = "security"
    lock: LockLine
    devices: list[DeviceLine]
    sign_ins: list[SignInLine]


class LimitsSection(BaseModel):
    name: Literal["limits"] = "limits"
    own_limits: list[OwnLimitLine]
    switches: dict[str, bool]
    changes: list[LimitChangeLine]


Section = OverviewSection | IdentitiesSection | SecuritySection | LimitsSection


class CustomerView(BaseModel):
    """The customer 360 page: the masked profile, lock and KYC fields, one section, and the audit record
    that let them be shown."""

    customer: CustomerSummary
    lock: LockLine
    kyc: list[KycLine]
    section: Section = Field(discriminator="name")
    access: AccessRecordRead


class SectionView(BaseModel):
    """One section of the 360 page on its own (what the page loads when a staff member opens a tab)."""

    customer: CustomerSummary
    section: Section = Field(discriminator="name")
    access: AccessRecordRead


class RevealedField(BaseModel):
    """One KYC field in clear. Never logged (the value is left out of the repr)."""

    customer: CustomerSummary
    field: str
    value: str = Field(repr=False)
    access: AccessRecordRead


# --- accounts and transfers ----------------------------------------------------------------------------


class AccountDetail(BaseModel):
    id: str
    product: str
    currency: str
    masked_number: str
    status: str
    booked_minor: int
    available_minor: int
    interest_rate_bp: int
    opened_at: datetime
    closed_at: datetime | None


class EntryLine(BaseModel):
    """One ledger entry of an account. The description (often the customer's memo) is not shown; the
    counterparty is masked."""

    posted_at: datetime
    direction: Literal["in", "out"]
    amount_minor: int
    currency: str
    kind: str
    balance_after_minor: int
    transfer_id: str | None
    counterparty_masked_name: str | None
    counterparty_masked_number: str | None
    reversal: bool


class AccountView(BaseModel):
    account: AccountDetail
    holder: CustomerSummary
    entries: list[EntryLine]
    next_cursor: str | None
    access: AccessRecordRead


class StatusStep(BaseModel):
    status: str
    at: datetime
    code: str | None = None  # the failure or return code, if any
    evidence: str | None = None  # the ledger journal that booked the step, if any


class TransferView(BaseModel):
    transfer: TransferLine
    owner: CustomerSummary
    failure_reason: str | None
    journal_id: str | None
    hold_id: str | None
    history: list[StatusStep]
    access: AccessRecordRead
