from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atrium.antiphishing.domain import MAX_TEXT

Verdict = Literal["genuine", "suspicious", "unknown"]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="An SMS, a link, a phone number …")
    locale: Literal["zh", "en"] = "zh"


class ReasonRead(BaseModel):
    id: str  # stable: "lookalike_domain", "code_not_issued", …
    params: dict[str, str]
    message: str  # in the request's locale


class SentMessageInfo(BaseModel):
    """What the check may say about a message the bank sent: when, to whom (masked), what kind. Never its
    body, which may carry a live one-time code."""

    sent_at: datetime
    recipient_masked: str
    channel: str
    category: str


class FindingRead(BaseModel):
    kind: Literal["link", "email", "phone", "sender", "code"]
    text: str
    value: str
    display: str
    verdict: Verdict
    reasons: list[ReasonRead]
    label: str | None = None
    sent: SentMessageInfo | None = None
    text_matches: bool | None = None


class CheckResult(BaseModel):
    verdict: Verdict
    reasons: list[ReasonRead]  # about the whole text, then those of the findings behind the verdict
    findings: list[FindingRead]
    claims_bank: bool


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["web", "email", "phone", "sms"]
    value: str
    display: str
    label: str
    include_subdomains: bool
    active: bool
    added_by: str | None
    created_at: datetime
    retired_at: datetime | None
    retired_by: str | None


class ChannelChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    channel_id: str
    action: str
    actor_kind: str
    actor_id: str | None
    detail: dict[str, object]
    changed_at: datetime
