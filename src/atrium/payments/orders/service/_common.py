"""Shared pieces of the order use cases: the bank calendar, row access and the read models."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.payments.orders import domain
from atrium.payments.orders.errors import OrderNotFound
from atrium.payments.orders.models import OrderExecution, StandingOrder
from atrium.payments.orders.schemas import ExecutionRead, OrderRead
from atrium.payments.schemas import AtriumDestination, OwnDestination, PayeeDestination

# Order dates are bank calendar days, whatever the server's zone (the limits' days are the same).
BANK_ZONE = ZoneInfo("Asia/Shanghai")


def bank_today() -> date:
    return clock.now().astimezone(BANK_ZONE).date()


def rule_of(order: StandingOrder) -> domain.Recurrence:
    return domain.Recurrence(
        frequency=order.frequency, start_on=order.start_on, day_of_month=order.day_of_month,
        end_on=order.end_on, count=order.max_occurrences,
    )


def destination_of(order: StandingOrder) -> OwnDestination | AtriumDestination | PayeeDestination:
    if order.to_type == "own":
        return OwnDestination(type="own", account_id=order.to_account_id or "")
    if order.to_type == "atrium":
        return AtriumDestination(type="atrium", account_number=order.to_account_number or "")
    return PayeeDestination(type="payee", payee_id=order.to_payee_id or "")


def owned(session: Session, *, customer_id: str, order_id: str, lock: bool = False) -> StandingOrder:
    stmt = select(StandingOrder).where(StandingOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.scalar(stmt)
    # The same answer for "does not exist" and "is not yours".
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound("no such order", order_id=order_id)
    return order


def to_read(o: StandingOrder) -> OrderRead:
    return OrderRead(
        id=o.id, status=o.status, frequency=o.frequency, start_on=o.start_on, day_of_month=o.day_of_month,
        end_on=o.end_on, count=o.max_occurrences, from_account_id=o.from_account_id, to_type=o.to_type,
        to_display=o.to_display, amount_minor=o.amount_minor, currency=o.currency, memo=o.memo,
        next_run_on=o.next_run_on, occurrences_handled=o.next_index,
        consecutive_failures=o.consecutive_failures, created_at=o.created_at, ended_at=o.ended_at,
    )


def execution_read(e: OrderExecution) -> ExecutionRead:
    return ExecutionRead(
        occurrence_index=e.occurrence_index, occurrence_on=e.occurrence_on, status=e.status,
        transfer_id=e.transfer_id, failure_code=e.failure_code, failure_reason=e.failure_reason,
        executed_at=e.executed_at,
    )
