"""Payments I/O models: what the API accepts and returns, and what other domains receive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from atrium.kit.money import MAX_AMOUNT_MINOR

_Id = Annotated[str, Field(min_length=1, max_length=40)]
_Number = Annotated[str, Field(min_length=1, max_length=64, description="digits; spaces and dashes ignored")]
_Name = Annotated[str, Field(min_length=1, max_length=120)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OwnDestination(_In):
    """Another account of the same customer."""

    type: Literal["own"]
    account_id: _Id


class AtriumDestination(_In):
    """Any Atrium account, by its account number."""

    type: Literal["atrium"]
    account_number: _Number


class PayeeDestination(_In):
    """A payee the customer saved."""

    type: Literal["payee"]
    payee_id: _Id


class ExternalDestination(_In):
    """An account at another bank, reached through the clearing rail."""

    type: Literal["external"]
    bank_code: Annotated[str, Field(min_length=1, max_length=11)]
    account_number: _Number
    account_name: _Name


Destination = Annotated[
    OwnDestination | AtriumDestination | PayeeDestination | ExternalDestination, Field(discriminator="type")
]


class TransactionSignatureIn(_In):
    """A bound device's signature over the transfer ("cloud certificate"): the canonical JSON of
    {payee, amount_minor, currency, time, nonce} (keys sorted, no spaces, UTF-8), ECDSA P-256, raw r‖s in
    base64. `payee` is `payments.service.signing_payee(to)`. Verified and kept with the transfer."""

    device_id: Annotated[str, Field(min_length=1, max_length=40)]
    time: Annotated[str, Field(min_length=1, max_length=40, description="ISO-8601 UTC, as signed")]
    nonce: Annotated[str, Field(min_length=1, max_length=64)]
    signature: Annotated[str, Field(min_length=1, max_length=200)]


class TransferCreate(_In):
    from_account_id: _Id
    to: Destination
    # Strict: "100" or 1.0 is refused rather than guessed at; money is an exact integer of minor units.
    amount_minor: Annotated[int, Field(strict=True, ge=1, le=MAX_AMOUNT_MINOR)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    memo: Annotated[str, Field(max_length=140)] = ""
    signature: TransactionSignatureIn | None = None


class Counterparty(BaseModel):
    type: str  # own | atrium | payee | external
    account_id: str | None = None  # only for the customer's own accounts
    payee_id: str | None = None
    bank_code: str | None = None
    masked_account_number: str | None = None
    name: str | None = None
    display: str


class RiskReasonRead(BaseModel):
    """Why the bank's security checks held, declined or questioned a payment: a public reason code (a
    behaviour such as `behaviour.new_payee`, or only the family of a list or rule: `list.block`,
    `rule.triggered`) and the sentence the customer was shown, by locale (zh, en)."""

    code: str
    text: dict[str, str] = {}


class TransferRead(BaseModel):
    id: str
    kind: str  # own | internal | interbank | qr
    # pending | completed | settled | returned | failed | held (for review) | declined | cancelled
    status: str
    channel: str
    from_account_id: str
    to: Counterparty
    amount_minor: int
    currency: str
    memo: str
    failure_code: str | None = None
    failure_reason: str | None = None
    journal_id: str | None = None
    hold_id: str | None = None
    created_at: datetime
    settled_at: datetime | None = None
    risk_reasons: list[RiskReasonRead] = []  # held, declined or cancelled for risk: why


class TransferPage(BaseModel):
    items: list[TransferRead]
    next_cursor: str | None = None


class PayeeCreate(_In):
    type: Literal["atrium", "external"]
    bank_code: Annotated[str | None, Field(max_length=11)] = None  # required for external payees
    account_number: _Number
    account_name: _Name
    nickname: Annotated[str | None, Field(max_length=120)] = None


class PayeeUpdate(_In):
    nickname: _Name


class PayeeRead(BaseModel):
    id: str
    type: str
    bank_code: str
    bank_name: str
    account_number: str
    masked_account_number: str
    account_name: str
    nickname: str
    created_at: datetime


class BankRead(BaseModel):
    code: str
    name: str
    local_name: str
    currencies: list[str]
