"""What a channel client sends and gets back, and how a decision is rendered for it.

Both the FastAPI routes and the fast path (`fast.py`) render through `render_decision`, so the two give the
same bytes for the same decision. Reason texts come from `atrium.risk.domain.reasons` through the service's
`DecisionRead`, in the language the client's Accept-Language asks for (zh or en).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atrium.config import get_settings
from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.risk.channel_clients import ChannelClient
from atrium.risk.schemas import DecisionRead, EventChecks, Outcome, RiskEventIn

ExternalChannel = Literal["card", "api", "transfer", "qr", "login", "device", "payee"]
_REF = r"^[A-Za-z0-9][A-Za-z0-9_.:@/+=-]*$"
LOCALES = ("zh", "en")


def _is_card_number(value: str) -> bool:
    """12–19 digits passing the Luhn check: a PAN, which must never reach the bank's risk log."""
    if not (value.isdigit() and 12 <= len(value) <= 19):
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class DecisionRequest(EventChecks):
    """One transaction to decide. `transaction_id` is the client's own id for it: asking again with the same
    (channel, transaction_id) returns the first decision (a retry is never decided or counted twice)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "channel": "card", "transaction_id": "T20260114-000123", "amount_minor": 12_345, "currency": "CNY",
        "card_ref": "card_7Q2", "terminal_id": "term-00042", "occurred_at": "2026-01-14T09:30:00+08:00",
    }]})

    channel: ExternalChannel
    transaction_id: str = Field(min_length=1, max_length=48, pattern=_REF)
    occurred_at: datetime | None = Field(default=None, description="when it happened (default: now)")
    amount_minor: int = Field(ge=0, le=MAX_AMOUNT_MINOR)
    currency: str = Field(min_length=3, max_length=3)
    card_ref: str | None = Field(default=None, max_length=64, pattern=_REF,
                                 description="the card's token or reference — never its number (PAN)")
    account_id: str | None = Field(default=None, max_length=64, pattern=_REF)
    terminal_id: str | None = Field(default=None, max_length=64, pattern=_REF,
                                    description="the merchant's terminal (or the merchant) id")
    customer_ref: str | None = Field(default=None, max_length=64, pattern=_REF)
    payee_ref: str | None = Field(default=None, max_length=200)
    ip: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("card_ref")
    @classmethod
    def _not_a_pan(cls, value: str | None) -> str | None:
        if value is not None and _is_card_number(value):
            raise ValueError("card_ref must be the card's token or reference, never the card number")
        return value

    @model_validator(mode="after")
    def _place_is_whole(self) -> DecisionRequest:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        return self

    def event(self, client: ChannelClient) -> RiskEventIn:
        """The service's event; the subject is namespaced by the client (see channel_models)."""
        return RiskEventIn(
            channel=self.channel, subject_ref=client.namespace(self.transaction_id),
            occurred_at=self.occurred_at, amount_minor=self.amount_minor, currency=self.currency,
            customer_id=self.customer_ref, card_ref=self.card_ref, account_id=self.account_id,
            device_id=self.device_id, payee_ref=self.payee_ref, terminal_id=self.terminal_id, ip=self.ip,
            lat=self.lat, lon=self.lon,
        )


class ReasonOut(BaseModel):
    code: str
    text: str = Field(description="for the cardholder")
    analyst: str = Field(description="for the bank's and the network's analysts")


class DecisionResponse(BaseModel):
    id: str
    transaction_id: str
    channel: str
    outcome: Outcome
    score: float
    reasons: list[ReasonOut]
    model_version: str | None
    fallback: bool = Field(description="the engine did not answer in time: the channel's fail policy decided")
    latency_us: int = Field(description="the engine's time for this decision, in microseconds")
    occurred_at: datetime
    decided_at: datetime
    replayed: bool = Field(description="true: this transaction was decided before; this is that decision")


class LabelRequest(BaseModel):
    """A late truth about a decided transaction: a chargeback or a fraud report (fraud=true), or a dispute
    that ended as genuine (fraud=false). Name the decision by its id, or by channel and transaction id."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str | None = Field(default=None, max_length=40, pattern=_REF)
    channel: ExternalChannel | None = None
    transaction_id: str | None = Field(default=None, min_length=1, max_length=48, pattern=_REF)
    fraud: bool

    @model_validator(mode="after")
    def _one_subject(self) -> LabelRequest:
        by_id = self.decision_id is not None
        by_ref = self.channel is not None or self.transaction_id is not None
        if by_id == by_ref or (by_ref and (self.channel is None or self.transaction_id is None)):
            raise ValueError("give decision_id, or channel and transaction_id (not both)")
        return self


class LabelResponse(BaseModel):
    id: str
    decision_id: str
    transaction_id: str
    fraud: bool
    arrived_at: datetime


class ChannelClientRead(BaseModel):
    id: str
    name: str
    channels: list[str]
    scopes: list[str]


def negotiate(accept_language: str | None) -> str:
    """zh or en from an Accept-Language header (highest q first; unknown languages skipped)."""
    best, best_q = None, -1.0
    for part in (accept_language or "").split(",")[:10]:
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LOCALES and q > best_q:
            best, best_q = lang, q
    return best or get_settings().default_locale


def response_of(read: DecisionRead, client: ChannelClient, locale: str) -> DecisionResponse:
    return DecisionResponse(
        id=read.id, transaction_id=client.transaction_id(read.subject_ref), channel=read.channel,
        outcome=read.outcome, score=round(read.score, 6),
        reasons=[ReasonOut(code=r.code, text=r.text.get(locale, ""), analyst=r.analyst.get(locale, ""))
                 for r in read.reasons],
        model_version=read.model_version, fallback=read.fallback, latency_us=read.latency_us,
        occurred_at=read.occurred_at, decided_at=read.created_at, replayed=read.replayed,
    )


def render_decision(read: DecisionRead, client: ChannelClient, locale: str) -> tuple[int, bytes, list[
        tuple[bytes, bytes]]]:
    """(status, body, headers) of a decision: 201 when decided now, 200 for a replay."""
    body = response_of(read, client, locale).model_dump_json().encode()
    headers = [(b"content-type", b"application/json"), (b"content-language", locale.encode()),
               (b"vary", b"Accept-Language"),
               (b"location", f"/api/v1/risk/decisions/{read.id}".encode())]
    if read.replayed:
        headers.append((b"idempotent-replayed", b"true"))
    return (200 if read.replayed else 201), body, headers
