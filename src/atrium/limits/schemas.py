from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.limits.domain import Channel, Method, Scope

# Strict: "5000" or true is not an amount; 0 is allowed (it blocks the method altogether).
LimitMinor = Annotated[int, Field(strict=True, ge=0, le=MAX_AMOUNT_MINOR)]
StrictSwitch = Annotated[bool, Field(strict=True)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class BankLimitRead(BaseModel):
    channel: Channel
    method: Method
    currency: str
    per_transaction_minor: int
    daily_minor: int
    monthly_minor: int


class BankLimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_transaction_minor: LimitMinor
    daily_minor: LimitMinor
    monthly_minor: LimitMinor


class OwnLimitRead(BaseModel):
    """None means the customer has set no limit of their own: the bank's applies."""

    method: Method
    currency: str
    per_transaction_minor: int | None
    daily_minor: int | None


class OwnLimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: CurrencyCode = "CNY"
    per_transaction_minor: LimitMinor | None = None
    daily_minor: LimitMinor | None = None


class OwnLimitChange(BaseModel):
    limit: OwnLimitRead
    # True when any own limit went up (or back to the bank's): the identity issue will ask for step-up.
    raised: bool
    changed: bool


class SwitchesRead(BaseModel):
    online_payments: bool
    overseas: bool
    night_time: bool  # payments between 00:00 and 06:00 China time
    qr_payments: bool
    card_not_present: bool


class SwitchesUpdate(BaseModel):
    """Only the switches given change; at least one must be given."""

    model_config = ConfigDict(extra="forbid")
    online_payments: StrictSwitch | None = None
    overseas: StrictSwitch | None = None
    night_time: StrictSwitch | None = None
    qr_payments: StrictSwitch | None = None
    card_not_present: StrictSwitch | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> SwitchesUpdate:
        if not self.given():
            raise ValueError("give at least one switch")
        return self

    def given(self) -> dict[str, bool]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class SwitchesChange(BaseModel):
    switches: SwitchesRead
    # True when any switch went from off to on (more kinds of payment allowed): a step-up trigger later.
    loosened: bool
    changed: list[str]


class UsageLine(BaseModel):
    """Limit, used and remaining for one method and currency on one channel, today and this month."""

    channel: Channel
    method: Method
    currency: str
    per_transaction_minor: int
    per_transaction_scope: Scope
    daily_limit_minor: int
    daily_scope: Scope
    daily_used_minor: int
    daily_remaining_minor: int
    monthly_limit_minor: int
    monthly_used_minor: int
    monthly_remaining_minor: int


class LimitsOverview(BaseModel):
    channel: Channel
    day: str  # the Shanghai date the daily figures are for
    month: str
    switches: SwitchesRead
    bank_limits: list[BankLimitRead]
    own_limits: list[OwnLimitRead]
    usage: list[UsageLine]


class LimitChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    actor_kind: str
    setting: str
    old_value: dict[str, Any] | None
    new_value: dict[str, Any]
    changed_at: datetime

