"""The inbox's reactions to other domains' events: each becomes one message (rendered from its template in
the customer's language) plus the notifications the customer's settings ask for.

Exactly once: the consumer inbox (`atrium.events.consumers`) runs each handler once per event, and each
message's dedup key is the event's id, so even a handler run twice (a renamed consumer) adds nothing.

Which event says what, so a customer gets one message per payment, not two:
- a transfer: `TransferCompleted` for the payer (and, paid to another Atrium customer, the payee), except
  a QR payment (`QrPaymentCompleted` says it, naming the merchant) and a standing order's payment
  (`StandingOrderExecuted` says it, naming the date);
- returned, failed, a standing order that failed or was suspended: their own events;
- payment limits and switches, and every change to how the customer signs in (except switching between
  their own identities, which is routine): security alerts, always sent, by SMS too.
- a transfer held for the anti-fraud review: "being checked" (`TransferHeld`), then "stopped"
  (`RiskReviewRejected`) or, released (`RiskReviewReleased`), one message: a payment that completes on
  release (to another Atrium customer, a QR merchant) is told by its usual completion message alone —
  "check complete, on its way" would only repeat it —, an interbank one, which still has to clear, hears
  "check complete" now and "completed" when it settles; a standing order's payment, whose completion is
  not told again (`StandingOrderExecuted` said it), hears "check complete";
- the anti-fraud monitor's and decisions' alerts (`RiskAlertRaised`), except a payment's own decision,
  which the payer was already answered about (the held message, the declined page or problem).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountNotFound
from atrium.events.catalogue import (
    PaymentLimitChanged,
    QrPaymentCompleted,
    RiskAlertRaised,
    RiskReviewRejected,
    RiskReviewReleased,
    SecurityChangeRecorded,
    StandingOrderExecuted,
    StandingOrderFailed,
    TransferCompleted,
    TransferFailed,
    TransferHeld,
    TransferReturned,
)
from atrium.events.consumers import subscribe
from atrium.logs import get_logger
from atrium.messages import service
from atrium.messages.domain import Label, Moment, Money, Value
from atrium.payments import service as payments
from atrium.payments.errors import TransferNotFound
from atrium.payments.schemas import TransferRead

log = get_logger("atrium.messages.handlers")
# Switching identity happens many times a day by design; alerting on it would teach customers to ignore
# alerts.
QUIET_ACTIONS = frozenset({"identity.switched"})
STANDING_ORDER_CHANNEL = "scheduled"


def _transfer(session: Session, customer_id: str, transfer_id: str) -> TransferRead | None:
    try:
        return payments.get_transfer(session, customer_id=customer_id, transfer_id=transfer_id)
    except TransferNotFound:
        # The producer committed the event with the transfer; a missing one is a bug to see, not to retry.
        log.warning("message_for_missing_transfer", transfer_id=transfer_id)
        return None


def _account(session: Session, account_id: str) -> tuple[str, str] | None:
    """(owner, last four digits) of an account."""
    try:
        acc = accounts.get_by_id(session, account_id)
    except AccountNotFound:
        return None
    digits = "".join(ch for ch in acc.masked_number if ch.isdigit())
    return acc.customer_id, digits[-4:]


@subscribe("messages.transfer_completed", [TransferCompleted.type])
def transfer_completed(session: Session, event: TransferCompleted) -> None:
    if event.kind == "qr":
        return
    t = _transfer(session, event.customer_id, event.transfer_id)
    if t is None:
        return
    money = Money(event.amount_minor, event.currency)
    source = _account(session, event.from_account_id)
    if t.channel != STANDING_ORDER_CHANNEL and source is not None:
        service.send_templated(
            session, customer_id=event.customer_id, template_key="transfer.completed", dedup_key=event.id,
            values={"amount": money, "account": source[1], "counterparty": t.to.display,
                    "account_id": event.from_account_id},
        )
    if event.kind == "internal" and event.to_account_id:
        target = _account(session, event.to_account_id)
        if target is not None and target[0] != event.customer_id:
            service.send_templated(
                session, customer_id=target[0], template_key="transfer.received", dedup_key=f"{event.id}:in",
                values={"amount": money, "account": target[1], "account_id": event.to_account_id},
            )


@subscribe("messages.transfer_unsuccessful", [TransferReturned.type, TransferFailed.type])
def transfer_unsuccessful(session: Session, event: TransferReturned | TransferFailed) -> None:
    t = _transfer(session, event.customer_id, event.transfer_id)
    if t is None:
        return
    key = "transfer.returned" if isinstance(event, TransferReturned) else "transfer.failed"
    service.send_templated(
        session, customer_id=event.customer_id, template_key=key, dedup_key=event.id,
        values={"amount": Money(t.amount_minor, t.currency), "counterparty": t.to.display,
                "reason": Label(f"reason:{event.reason}"), "account_id": t.from_account_id},
    )


@subscribe("messages.qr_paid", [QrPaymentCompleted.type])
def qr_paid(session: Session, event: QrPaymentCompleted) -> None:
    t = _transfer(session, event.customer_id, event.transfer_id)
    if t is None:
        return
    service.send_templated(
        session, customer_id=event.customer_id, template_key="qr.paid", dedup_key=event.id,
        values={"amount": Money(event.amount_minor, event.currency), "merchant": t.to.display,
                "reference": event.reference, "account_id": t.from_account_id},
    )


@subscribe("messages.standing_orders", [StandingOrderExecuted.type, StandingOrderFailed.type])
def standing_order(session: Session, event: StandingOrderExecuted | StandingOrderFailed) -> None:
    day = date.fromisoformat(event.occurrence_on)
    if isinstance(event, StandingOrderFailed):
        service.send_templated(
            session, customer_id=event.customer_id, dedup_key=event.id,
            template_key="order.suspended" if event.suspended else "order.failed",
            values={"day": day, "reason": Label(f"reason:{event.reason_code}")},
        )
        return
    t = _transfer(session, event.customer_id, event.transfer_id)
    if t is None:
        return
    service.send_templated(
        session, customer_id=event.customer_id, template_key="order.executed", dedup_key=event.id,
        values={"amount": Money(event.amount_minor, event.currency), "counterparty": t.to.display,
                "day": day, "account_id": t.from_account_id},
    )


def setting_label(setting: str) -> Label:
    """"own:qr_payment:CNY" → the label "own:qr_payment"; "switch:overseas" as it is."""
    parts = setting.split(":")
    return Label(":".join(parts[:2]) if parts[0] in ("own", "switch") else setting)


@subscribe("messages.payment_limits", [PaymentLimitChanged.type])
def payment_limit_changed(session: Session, event: PaymentLimitChanged) -> None:
    service.send_templated(
        session, customer_id=event.customer_id, template_key="limits.changed", dedup_key=event.id,
        values={"setting": setting_label(event.setting), "when": Moment(event.occurred_at)},
    )


@subscribe("messages.security_alerts", [SecurityChangeRecorded.type])
def security_changed(session: Session, event: SecurityChangeRecorded) -> None:
    if event.action in QUIET_ACTIONS:
        return
    service.send_templated(
        session, customer_id=event.customer_id, template_key="security.changed", dedup_key=event.id,
        values={"change": Label(f"change:{event.action}"), "when": Moment(event.occurred_at)},
    )


# --- anti-fraud: held payments and alerts --------------------------------------------------------------

PAYMENT_RISK_CHANNELS = frozenset({"transfer", "qr"})


def _risk_transfer(
    session: Session, event: RiskReviewReleased | RiskReviewRejected
) -> TransferRead | None:
    if event.channel not in PAYMENT_RISK_CHANNELS or not event.customer_id:
        return None
    if event.transfer_id:
        return _transfer(session, event.customer_id, event.transfer_id)
    return payments.transfer_for_decision(session, customer_id=event.customer_id,
                                          decision_id=event.decision_id)


def _about_transfer(t: TransferRead) -> dict[str, Value]:
    return {"amount": Money(t.amount_minor, t.currency), "counterparty": t.to.display, "transfer_id": t.id}


@subscribe("messages.transfer_held", [TransferHeld.type])
def transfer_held(session: Session, event: TransferHeld) -> None:
    t = _transfer(session, event.customer_id, event.transfer_id)
    if t is None:
        return
    service.send_templated(session, customer_id=event.customer_id, template_key="risk.held",
                           dedup_key=event.id, values=_about_transfer(t))


def _completion_is_told(t: TransferRead) -> bool:
    """Whether a released transfer's completion gets its own message straight away (`transfer_completed`,
    `qr_paid`): it completes on release (not interbank) and is not a standing order's payment."""
    return t.kind != "interbank" and t.channel != STANDING_ORDER_CHANNEL


@subscribe("messages.risk_review_verdict", [RiskReviewReleased.type, RiskReviewRejected.type])
def risk_review_verdict(session: Session, event: RiskReviewReleased | RiskReviewRejected) -> None:
    t = _risk_transfer(session, event)
    if t is None or event.customer_id is None:
        return
    if isinstance(event, RiskReviewReleased) and _completion_is_told(t):
        return  # "transfer completed" / "QR payment made" follows and says it
    key = "risk.released" if isinstance(event, RiskReviewReleased) else "risk.rejected"
    service.send_templated(session, customer_id=event.customer_id, template_key=key, dedup_key=event.id,
                           values=_about_transfer(t))


@subscribe("messages.risk_alerts", [RiskAlertRaised.type])
def risk_alert(session: Session, event: RiskAlertRaised) -> None:
    if event.source == "decision" and event.channel in PAYMENT_RISK_CHANNELS:
        return  # the payer already heard: the held message, the declined page or the API's problem
    service.send_templated(
        session, customer_id=event.customer_id, template_key="risk.alert", dedup_key=event.id,
        values={"activity": Label(f"risk:{event.channel}"), "when": Moment(event.occurred_at)},
    )
