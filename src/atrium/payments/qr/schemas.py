"""QR pay I/O models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.payments.merchants.schemas import MerchantPublic
from atrium.payments.qr.signing import MAX_PAYLOAD, REFERENCE_MAX

DEFAULT_TTL_S = 15 * 60
MIN_TTL_S = 30
MAX_TTL_S = 366 * 24 * 3600  # a printed, open-amount code at a market stall lives for a year at most

_Amount = Annotated[int, Field(strict=True, ge=1, le=MAX_AMOUNT_MINOR)]
_Payload = Annotated[str, Field(min_length=1, max_length=MAX_PAYLOAD)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QrIssue(_In):
    """A code for one order (`amount_minor` set: payable once) or an open-amount code (the customer types
    the amount; payable by anyone until it expires)."""

    amount_minor: _Amount | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    reference: Annotated[str, Field(min_length=1, max_length=REFERENCE_MAX)]
    ttl_s: Annotated[int, Field(strict=True, ge=MIN_TTL_S, le=MAX_TTL_S)] = DEFAULT_TTL_S


class QrIssued(BaseModel):
    payload: str
    merchant_id: str
    key_id: str
    amount_minor: int | None
    currency: str
    reference: str
    issued_at: datetime
    expires_at: datetime
    svg: str = Field(description="The QR code as inline SVG, for a screen or a print-out")


class QrParse(_In):
    payload: _Payload


class QrDetails(BaseModel):
    """A verified code, for the customer's confirm screen."""

    merchant: MerchantPublic
    amount_minor: int | None = Field(description="Fixed amount; null when the customer enters it")
    currency: str
    reference: str
    issued_at: datetime
    expires_at: datetime
    already_paid: bool = Field(description="A fixed-amount code that has been paid cannot be paid again")


class QrPay(_In):
    payload: _Payload
    from_account_id: Annotated[str, Field(min_length=1, max_length=40)]
    amount_minor: _Amount | None = Field(None, description="Required only when the code has no amount")
    memo: Annotated[str, Field(max_length=140)] = ""


class QrKeyRead(BaseModel):
    key_id: str
    merchant_id: str
    public_key: str
    created_at: datetime
