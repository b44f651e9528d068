"""The catalogue of integration events: every event that leaves a domain is declared here.

Events are named in the past tense. Payloads carry ids and amounts, never PII (events reach brokers and
logs). Add a new event as a subclass with a unique `type`; `EVENT_TYPES` finds it for deserialising.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from atrium.kit import clock
from atrium.kit.ids import new_id


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    id: str = Field(default_factory=lambda: new_id("evt"))
    occurred_at: datetime = Field(default_factory=lambda: clock.now())

    def aggregate_id(self) -> str | None:
        """The id of the thing the event is about, for ordering and partitioning."""
        return None


EVENT_TYPES: dict[str, type[Event]] = {}


def event_type(cls: type[Event]) -> type[Event]:
    """Class decorator: register an event class under its `type`."""
    if cls.type in EVENT_TYPES:
        raise ValueError(f"duplicate event type {cls.type}")
    EVENT_TYPES[cls.type] = cls
    return cls


def parse(type_: str, payload: dict) -> Event:
    return EVENT_TYPES[type_].model_validate(payload)


# --- accounts ---------------------------------------------------------------------------------------


@event_type
class AccountOpened(Event):
    type: ClassVar[str] = "AccountOpened"
    account_id: str
    customer_id: str
    product: str
    currency: str

    def aggregate_id(self) -> str | None:
        return self.account_id


@event_type
class AccountClosed(Event):
    type: ClassVar[str] = "AccountClosed"
    account_id: str
    customer_id: str

    def aggregate_id(self) -> str | None:
        return self.account_id


@event_type
class InterestPosted(Event):
    type: ClassVar[str] = "InterestPosted"
    account_id: str
    amount_minor: int
    currency: str
    period: str

    def aggregate_id(self) -> str | None:
        return self.account_id


# --- payments ---------------------------------------------------------------------------------------


@event_type
class TransferCompleted(Event):
    type: ClassVar[str] = "TransferCompleted"
    transfer_id: str
    kind: str  # own | internal | interbank | qr | scheduled
    from_account_id: str
    to_account_id: str | None
    amount_minor: int
    currency: str
    customer_id: str

    def aggregate_id(self) -> str | None:
        return self.transfer_id


@event_type
class TransferInitiated(Event):
    """An interbank transfer whose money is held and sent to the rail; it settles or returns later."""

    type: ClassVar[str] = "TransferInitiated"
    transfer_id: str
    from_account_id: str
    amount_minor: int
    currency: str
    customer_id: str

    def aggregate_id(self) -> str | None:
        return self.transfer_id


@event_type
class TransferHeld(Event):
    """The anti-fraud decision held a transfer for review: the payer's money is on hold until an analyst
    releases it (then TransferCompleted, or TransferInitiated for another bank) or confirms fraud."""

    type: ClassVar[str] = "TransferHeld"
    transfer_id: str
    kind: str
    from_account_id: str
    amount_minor: int
    currency: str
    customer_id: str

    def aggregate_id(self) -> str | None:
        return self.transfer_id


@event_type
class TransferReturned(Event):
    type: ClassVar[str] = "TransferReturned"
    transfer_id: str
    reason: str
    customer_id: str

    def aggregate_id(self) -> str | None:
        return self.transfer_id


@event_type
class TransferFailed(Event):
    type: ClassVar[str] = "TransferFailed"
    transfer_id: str
    reason: str
    customer_id: str

    def aggregate_id(self) -> str | None:
        return self.transfer_id


@event_type
class QrPaymentCompleted(Event):
    """A customer paid a merchant's QR code (the transfer also emits TransferCompleted, kind "qr")."""

    type: ClassVar[str] = "QrPaymentCompleted"
    transfer_id: str
    merchant_id: str
    category: str  # the merchant's category: cash-flow charts and campaigns group spending by it
    customer_id: str
    amount_minor: int
    currency: str
    reference: str

    def aggregate_id(self) -> str | None:
        return self.transfer_id


@event_type
class StandingOrderExecuted(Event):
    """One occurrence of a scheduled or standing order paid (interbank ones are then pending)."""

    type: ClassVar[str] = "StandingOrderExecuted"
    order_id: str
    customer_id: str
    occurrence_on: str  # ISO date of the occurrence
    transfer_id: str
    amount_minor: int
    currency: str

    def aggregate_id(self) -> str | None:
        return self.order_id


@event_type
class StandingOrderFailed(Event):
    """One occurrence could not be paid; `suspended` when that was the order's third failure in a row."""

    type: ClassVar[str] = "StandingOrderFailed"
    order_id: str
    customer_id: str
    occurrence_on: str
    reason_code: str
    suspended: bool

    def aggregate_id(self) -> str | None:
        return self.order_id


@event_type
class PaymentLimitChanged(Event):
    type: ClassVar[str] = "PaymentLimitChanged"
    customer_id: str
    setting: str

    def aggregate_id(self) -> str | None:
        return self.customer_id


# --- identity: security changes ----------------------------------------------------------------------


@event_type
class SecurityChangeRecorded(Event):
    """A change to how a customer signs in or is protected was recorded (atrium.identity.audit): a passkey
    added, the password changed, a device removed, …. `action` is the audit action; the change's detail
    (device names) stays in the database: the payload carries ids only."""

    type: ClassVar[str] = "SecurityChangeRecorded"
    customer_id: str
    action: str
    change_id: str

    def aggregate_id(self) -> str | None:
        return self.customer_id


# --- risk (anti-fraud) -------------------------------------------------------------------------------
# `subject_ref` is what the producer asked risk to decide (a transfer id, an idempotency reference, a card
# network's transaction id); `transfer_id` is set when payments attached its transfer to the decision.


class _RiskReview(Event):
    """What every event of one held activity's review names (not an event type itself)."""

    decision_id: str
    case_id: str
    channel: str
    subject_ref: str
    transfer_id: str | None = None
    customer_id: str | None = None

    def aggregate_id(self) -> str | None:
        return self.decision_id


@event_type
class RiskReviewOpened(_RiskReview):
    """An activity was held for an analyst's review; whoever holds its money waits for Released/Rejected."""

    type: ClassVar[str] = "RiskReviewOpened"


@event_type
class RiskReviewReleased(_RiskReview):
    """The analyst released a held activity: let it through."""

    type: ClassVar[str] = "RiskReviewReleased"
    staff_id: str


@event_type
class RiskReviewRejected(_RiskReview):
    """The analyst confirmed fraud on a held activity: cancel it and return any held money."""

    type: ClassVar[str] = "RiskReviewRejected"
    staff_id: str


@event_type
class FraudConfirmed(Event):
    """A decision's activity was confirmed as fraud (the label feeds the next model)."""

    type: ClassVar[str] = "FraudConfirmed"
    decision_id: str
    channel: str
    subject_ref: str
    source: str  # analyst | customer | chargeback …
    case_id: str | None = None
    customer_id: str | None = None

    def aggregate_id(self) -> str | None:
        return self.decision_id


@event_type
class RiskAlertRaised(Event):
    """Tell the customer about risky activity on their account (the inbox shows it in-app). `source`:
    "decision" (denied or held now), "challenge" (a step-up failed or was disowned), "monitor" (completed
    activity that scores high on a later look). Reason codes only, never entity keys or amounts' owners."""

    type: ClassVar[str] = "RiskAlertRaised"
    customer_id: str
    decision_id: str
    channel: str
    outcome: str
    reason_codes: list[str]
    source: str

    def aggregate_id(self) -> str | None:
        return self.customer_id
