"""Merchant I/O models: what staff send and see, and the public face a paying customer sees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# MCC-like groups, coarse on purpose: cash-flow charts and campaigns group spending by them.
Category = Literal[
    "groceries", "dining", "transport", "utilities", "retail", "health", "education", "entertainment",
    "travel", "services",
]
CATEGORIES: tuple[str, ...] = get_args(Category)
MerchantStatus = Literal["active", "suspended", "closed"]
_Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class MerchantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=120)]
    category: Category
    city: Annotated[str, Field(min_length=1, max_length=80)]
    currencies: Annotated[list[_Currency], Field(min_length=1, max_length=8)] = ["CNY"]


class MerchantStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: MerchantStatus


class MerchantPublic(BaseModel):
    """What a customer may see before paying: enough to recognise the shop, nothing about its money."""

    id: str
    name: str
    category: str
    city: str
    status: str


class MerchantBalance(BaseModel):
    currency: str
    ledger_account_id: str
    booked_minor: int
    available_minor: int


class MerchantRead(MerchantPublic):
    """The staff view: the merchant, its settlement accounts and their balances."""

    balances: list[MerchantBalance]
    created_at: datetime
    updated_at: datetime


class MerchantPage(BaseModel):
    items: list[MerchantRead]
    next_cursor: str | None = None
