"""Paying due occurrences. The job (orders/tasks.py) asks for the due orders, then calls `run_next` in its
own unit of work per occurrence until the order has nothing due, so each occurrence commits on its own
and a crash loses at most the one in flight (which the next run pays, on the same idempotency key).

Each occurrence passes the risk decision like any payment (`payments.execute` screens it, with nobody
present to answer a challenge: a challenge is held for review). A declined occurrence is a failure of the
order (`payment-declined`, counted towards suspension) with its declined transfer kept; a held one is
"sent": its transfer says how the review ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.events import outbox
from atrium.events.catalogue import StandingOrderExecuted, StandingOrderFailed
from atrium.kit import clock
from atrium.kit.errors import AtriumError
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.payments import service as payments
from atrium.payments.orders import domain
from atrium.payments.orders.models import OrderExecution, StandingOrder
from atrium.payments.orders.service._common import destination_of, rule_of
from atrium.payments.schemas import TransferRead

CHANNEL = "scheduled"
REASON_MAX = 300
DECLINED = "payment-declined"  # the risk decision declined it (the code of payments.errors.PaymentDeclined)


@dataclass(frozen=True, slots=True)
class Outcome:
    order_id: str
    occurrence_on: date
    status: str  # paid | sent | failed
    transfer_id: str | None = None
    failure_code: str | None = None
    order_status: str = "active"


def due_order_ids(session: Session, *, today: date, limit: int = 500) -> list[str]:
    """Active orders with an occurrence on or before `today`, the most overdue first."""
    return list(session.scalars(
        select(StandingOrder.id)
        .where(StandingOrder.status == "active", StandingOrder.next_run_on <= today)
        .order_by(StandingOrder.next_run_on, StandingOrder.id).limit(limit)
    ))


def _pay(session: Session, order: StandingOrder, when: date) -> TransferRead:
    source = accounts.get_owned(session, customer_id=order.customer_id, account_id=order.from_account_id)
    payments.check_source(source, order.currency)
    destination = payments.resolve(session, customer_id=order.customer_id, to=destination_of(order),
                                   source=source, currency=order.currency)
    request_hash = fingerprint({"order_id": order.id, "occurrence_on": when.isoformat(),
                                "amount_minor": order.amount_minor, "currency": order.currency})
    return payments.execute(
        session, customer_id=order.customer_id, idempotency_key=domain.idempotency_key(order.id, when),
        request_hash=request_hash, source=source, destination=destination, amount_minor=order.amount_minor,
        currency=order.currency, memo=order.memo or "Standing order", channel=CHANNEL,
    )


def run_next(session: Session, *, order_id: str, today: date) -> Outcome | None:
    """Pay (or record the failure of) the order's next due occurrence; None when nothing is due.

    The order row is locked first and its `next_index` re-read, so a second runner waits and then finds
    the occurrence handled; the transfer's key (order, date) is the backstop against paying twice.
    """
    order = session.scalar(select(StandingOrder).where(StandingOrder.id == order_id).with_for_update())
    if order is None or order.status != "active":
        return None
    rule = rule_of(order)
    batch = domain.due(rule, order.next_index, today, limit=1)
    if not batch:
        return None
    index, when = batch[0]
    now = clock.now()
    execution = OrderExecution(
        id=new_id("soe"), order_id=order.id, occurrence_index=index, occurrence_on=when, status="paid",
        executed_at=now,
    )
    try:
        # A savepoint: a refusal undoes whatever the attempt wrote, and the failure is recorded instead.
        with session.begin_nested():
            transfer = _pay(session, order, when)
    except AtriumError as exc:
        execution.status, execution.failure_code = "failed", exc.code
        execution.failure_reason = exc.detail[:REASON_MAX]
        order.consecutive_failures, suspended = domain.after_failure(order.consecutive_failures)
        if suspended:
            order.status, order.ended_at = "suspended", now
    else:
        execution.transfer_id = transfer.id
        if transfer.status == "declined":
            execution.status, execution.failure_code = "failed", DECLINED
            execution.failure_reason = (transfer.failure_reason or "")[:REASON_MAX] or None
            order.consecutive_failures, suspended = domain.after_failure(order.consecutive_failures)
            if suspended:
                order.status, order.ended_at = "suspended", now
        else:
            # An interbank payment is held and handed to the clearing rail, a held one waits for an analyst:
            # "sent", settling or returning later (its transfer says which); others complete at once: "paid".
            execution.status = "paid" if transfer.status == "completed" else "sent"
            order.consecutive_failures = 0
    session.add(execution)
    order.next_index = index + 1
    order.next_run_on = domain.occurrence(rule, index + 1)
    order.updated_at = now
    if order.next_run_on is None and order.status == "active":
        order.status, order.ended_at = "completed", now
    session.flush()
    if execution.status != "failed":
        assert execution.transfer_id is not None
        outbox.record(session, StandingOrderExecuted(
            order_id=order.id, customer_id=order.customer_id, occurrence_on=when.isoformat(),
            transfer_id=execution.transfer_id, amount_minor=order.amount_minor, currency=order.currency,
        ))
    else:
        outbox.record(session, StandingOrderFailed(
            order_id=order.id, customer_id=order.customer_id, occurrence_on=when.isoformat(),
            reason_code=execution.failure_code or "unknown", suspended=order.status == "suspended",
        ))
    return Outcome(order_id=order.id, occurrence_on=when, status=execution.status,
                   transfer_id=execution.transfer_id, failure_code=execution.failure_code,
                   order_status=order.status)
