"""The risk domain's I/O shapes: what payments, the decision API and the staff console send and get back.

`RiskEventIn` carries raw entity values (an IP address, a device id, a payee reference); the service turns
them into opaque keys (keyed hashes for IPs, devices and payees) before anything is stored or logged. Names
and shapes are a contract: fields may be added, never renamed or removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from atrium.kit.money import CURRENCY_EXPONENT, MAX_AMOUNT_MINOR

Channel = Literal["transfer", "qr", "card", "login", "device", "payee", "api"]
Outcome = Literal["allow", "challenge", "review", "deny"]
ListKind = Literal["block", "allow", "watch"]
SubjectKind = Literal["card", "account", "device", "ip", "payee", "merchant", "customer", "pair"]
RuleAction = Literal["allow", "challenge", "review", "deny", "score"]
RuleMode = Literal["live", "shadow"]
RuleStatus = Literal["draft", "proposed", "published", "rejected", "retired"]
CaseStatus = Literal["open", "released", "confirmed", "closed"]
ModelRole = Literal["champion", "challenger", "retired"]

_REF = r"^[A-Za-z0-9][A-Za-z0-9_.:@/+=-]*$"  # ids and references: no spaces, no markup


class EventChecks(BaseModel):
    """The checks every way in shares (the service's RiskEventIn, the decision API's request): a known
    currency, an aware time, finite coordinates."""

    @field_validator("currency", check_fields=False)
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENT:
            raise ValueError(f"unsupported currency {value!r}")
        return value

    @field_validator("occurred_at", check_fields=False)
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone")
        return value

    @field_validator("lat", "lon", check_fields=False)
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("coordinates must be finite")
        return value


class RiskEventIn(EventChecks):
    """One event to decide. `subject_ref` names what is decided (a transfer id, an idempotency reference, a
    card network's transaction id): asking again for the same (channel, subject_ref) returns the first
    decision. Raw values of `device_id`, `ip` and `payee_ref` never leave the service in clear."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    subject_ref: str = Field(min_length=1, max_length=80, pattern=_REF)
    occurred_at: datetime | None = None  # None: now
    amount_minor: int = Field(default=0, ge=0, le=MAX_AMOUNT_MINOR)
    currency: str = "CNY"
    customer_id: str | None = Field(default=None, max_length=64, pattern=_REF)
    card_ref: str | None = Field(default=None, max_length=64, pattern=_REF)  # a card id, never a PAN
    account_id: str | None = Field(default=None, max_length=64, pattern=_REF)
    device_id: str | None = Field(default=None, max_length=200)
    payee_ref: str | None = Field(default=None, max_length=200)  # an account number, a wallet, a payee id
    terminal_id: str | None = Field(default=None, max_length=64, pattern=_REF)  # a merchant or terminal
    ip: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)



class ReasonRead(BaseModel):
    """A reason code with its texts: `text` for the customer, `analyst` for staff (by locale)."""

    code: str
    params: dict[str, Any] = {}
    text: dict[str, str] = {}
    analyst: dict[str, str] = {}


class DecisionRead(BaseModel):
    id: str
    channel: Channel
    subject_ref: str
    outcome: Outcome
    score: float
    reasons: list[ReasonRead]
    model_version: str | None
    fallback: bool  # the engine was unavailable: the channel's on-timeout policy decided
    case_id: str | None
    occurred_at: datetime
    created_at: datetime
    latency_us: int
    replayed: bool = False  # True: this subject was decided before and this is that first decision

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def customer_text(self, locale: str = "zh") -> str:
        """The reasons as one sentence-per-reason text a customer can read."""
        return " ".join(t for r in self.reasons if (t := r.text.get(locale) or r.text.get("zh")))


class DecisionDetail(DecisionRead):
    """Everything an analyst sees about one decision."""

    amount_minor: int
    currency: str
    customer_id: str | None
    displays: dict[str, str]  # masked ip / device / payee
    entities: dict[str, str]  # entity kind → key (keyed hashes where personal)
    features: dict[str, float]
    rule_hits: list[dict[str, Any]]
    shadow_hits: list[dict[str, Any]]
    list_hits: list[dict[str, Any]]
    rule_errors: list[str]
    model_score: float | None
    challenger_score: float | None
    challenger_version: str | None
    label: bool | None  # the latest arrived label (True: fraud), None if none arrived


class LabelRead(BaseModel):
    id: str
    decision_id: str
    fraud: bool
    source: str
    staff_id: str | None
    arrived_at: datetime


@dataclass(frozen=True)
class TrainingSet:
    """Feature vectors logged at decision time (columns: `feature_names`, NaN where a feature did not
    apply) with their labels (1 fraud, 0 genuine) — a dataclass of arrays, not a validated model, because
    a training window holds hundreds of thousands of rows."""

    feature_names: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray
    decision_ids: tuple[str, ...]

    @property
    def frauds(self) -> int:
        return int(self.y.sum())

    def __len__(self) -> int:
        return len(self.decision_ids)


# --- cases -----------------------------------------------------------------------------------------------


class CaseRead(BaseModel):
    id: str
    decision_id: str
    customer_id: str | None
    channel: Channel
    outcome: Outcome
    origin: Literal["review", "deny", "monitor"]
    held: bool  # money waits for this case: release it or confirm fraud
    status: CaseStatus
    assignee: str | None
    resolution: str | None
    note: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    amount_minor: int
    currency: str
    score: float


class CaseActionRead(BaseModel):
    id: str
    action: str
    staff_id: str | None
    from_status: str | None
    to_status: str | None
    note: str
    detail: dict[str, Any]
    at: datetime


class Contribution(BaseModel):
    feature: str
    value: float | None
    contribution: float


class CaseDetail(BaseModel):
    case: CaseRead
    decision: DecisionDetail
    explanation: list[Contribution]  # the champion's top feature contributions (empty without a model)
    recent: list[DecisionRead]  # the customer's other decisions, newest first
    actions: list[CaseActionRead]  # oldest first
    labels: list[LabelRead]


# --- rules -----------------------------------------------------------------------------------------------


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64)
    expression: str = Field(min_length=1, max_length=2000)
    action: RuleAction
    weight: float = Field(default=0.0, ge=-1.0, le=1.0)
    reason: str = Field(default="", max_length=100)
    mode: RuleMode = "shadow"
    note: str = Field(default="", max_length=2000)


class RuleRead(BaseModel):
    id: str
    key: str
    version: int
    expression: str
    action: RuleAction
    weight: float
    reason: str
    mode: RuleMode
    status: RuleStatus
    note: str
    author: str
    approver: str | None
    decision_note: str
    created_at: datetime
    decided_at: datetime | None


class BacktestRead(BaseModel):
    """A rule expression run over logged decisions in [since, until) with the labels arrived by `as_of`."""

    expression: str
    action: RuleAction
    since: datetime
    until: datetime
    as_of: datetime
    evaluated: int  # decisions with a logged feature vector
    fired: int
    frauds: int  # labelled fraud among the evaluated
    fraud_caught: int
    precision: float | None  # fraud_caught / fired
    recall: float | None  # fraud_caught / frauds
    errors: int  # evaluations that failed (e.g. division by zero): the rule does not fire there
    changed: dict[str, int]  # "allow->review": how many outcomes the rule would have raised
    examples: list[str]  # up to 20 decision ids it fires on, newest first


# --- lists -----------------------------------------------------------------------------------------------


class ListEntryCreate(BaseModel):
    """`value` is the raw value (an IP, a device id, a card id, …); for a `pair`, `value` is the payer's
    customer id and `counterpart` the payee reference."""

    model_config = ConfigDict(extra="forbid")

    list_kind: ListKind
    subject_kind: SubjectKind
    value: str = Field(min_length=1, max_length=200)
    counterpart: str | None = Field(default=None, max_length=200)
    reason: str = Field(default="", max_length=500)
    expires_at: datetime | None = None


class ListEntryRead(BaseModel):
    id: str
    list_kind: ListKind
    subject_kind: SubjectKind
    display: str  # a mask for hashed kinds; the value itself for ids (card, account, merchant, customer)
    reason: str
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    removed_at: datetime | None
    removed_by: str | None
    active: bool  # not removed and not expired (as of the read)


class ListAuditRead(BaseModel):
    id: str
    entry_id: str
    action: Literal["add", "remove"]
    list_kind: ListKind
    subject_kind: SubjectKind
    display: str
    staff_id: str
    reason: str
    at: datetime


# --- models ----------------------------------------------------------------------------------------------


class ModelRead(BaseModel):
    id: str
    version: str
    role: ModelRole
    source: Literal["trained", "bootstrap"]
    metrics: dict[str, Any]
    feature_names: list[str]
    params: dict[str, Any]
    window_start: datetime
    window_end: datetime
    labels_known_at: datetime
    rows: int
    frauds: int
    created_at: datetime
    promoted_at: datetime | None
    retired_at: datetime | None


class PromotionRead(BaseModel):
    """A request to make `model_id` the champion, with who asked and why, and who decided it."""

    id: str
    model_id: str
    model_version: str
    status: Literal["pending", "approved", "rejected", "withdrawn"]
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
