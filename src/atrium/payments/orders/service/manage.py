"""A customer's orders: create (idempotent), list, read with executions, cancel."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.identity import stepup
from atrium.identity.principal import Principal
from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.kit.money import CURRENCY_EXPONENT
from atrium.payments import domain as payments_domain
from atrium.payments import service as payments
from atrium.payments.errors import InvalidPaymentDetails
from atrium.payments.orders import domain
from atrium.payments.orders.errors import InvalidSchedule, OrderFinished
from atrium.payments.orders.models import OrderExecution, StandingOrder
from atrium.payments.orders.schemas import OrderCreate, OrderDetail, OrderRead
from atrium.payments.orders.service._common import bank_today, execution_read, owned, to_read
from atrium.payments.schemas import AtriumDestination, OwnDestination, PayeeDestination

LIST_MAX = 500
EXECUTIONS_SHOWN = 100


def _check(idempotency_key: str, data: OrderCreate) -> str:
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 100 or (
        not idempotency_key.isprintable()
    ):
        raise InvalidPaymentDetails("an idempotency key is 1 to 100 printable characters")
    try:
        payments_domain.check_amount(data.amount_minor)
        memo = payments_domain.normalise_memo(data.memo)
    except payments_domain.RuleBroken as exc:
        raise InvalidPaymentDetails(str(exc)) from None
    if data.currency not in CURRENCY_EXPONENT:
        raise InvalidPaymentDetails(f"unsupported currency {data.currency!r}", currency=data.currency)
    return memo


def _by_key(session: Session, customer_id: str, key: str) -> StandingOrder | None:
    return session.scalar(select(StandingOrder).where(
        StandingOrder.customer_id == customer_id, StandingOrder.idempotency_key == key
    ))


def _replay(order: StandingOrder, request_hash: str) -> OrderRead:
    if order.request_hash != request_hash:
        raise IdempotencyConflict("this idempotency key was already used for a different order",
                                  order_id=order.id)
    return to_read(order)


def create_order(
    session: Session, *, customer_id: str, idempotency_key: str, data: OrderCreate, today: date | None = None,
    principal: Principal | None = None, step_up: str | None = None,
) -> OrderRead:
    """Schedule a one-off or standing order. The source and destination are checked now (and again at
    every payment); limits apply when each occurrence is paid. Same key and body → the same order.

    An order to someone else is a mandate for future payments made without the customer present: with
    the customer's `principal`, it needs a step-up grant bound to payee, amount, currency and frequency
    (action "order.create"), exactly as a large transfer does."""
    memo = _check(idempotency_key, data)
    request_hash = fingerprint(data.model_dump(mode="json"))
    existing = _by_key(session, customer_id, idempotency_key)
    if existing is not None:
        return _replay(existing, request_hash)
    try:
        rule = domain.make_rule(
            data.frequency, data.start_on, today=today or bank_today(), day_of_month=data.day_of_month,
            end_on=data.end_on, count=data.count,
        )
    except domain.RuleBroken as exc:
        raise InvalidSchedule(str(exc)) from None
    source = accounts.get_owned(session, customer_id=customer_id, account_id=data.from_account_id)
    payments.check_source(source, data.currency)
    destination = payments.resolve(session, customer_id=customer_id, to=data.to, source=source,
                                   currency=data.currency)
    if principal is not None and destination.kind != "own":
        elements = {"payee": payments.payee_key(destination), "amount_minor": str(data.amount_minor),
                    "currency": data.currency, "frequency": data.frequency}
        summary = f"{data.frequency}: {payments.summary(destination, data.amount_minor, data.currency)}"
        stepup.require(session, principal, action="order.create", token=step_up, elements=elements,
                       summary=summary)
    to = data.to
    now = clock.now()
    order = StandingOrder(
        id=new_id("sto"), customer_id=customer_id, frequency=rule.frequency, start_on=rule.start_on,
        day_of_month=rule.day_of_month, end_on=rule.end_on, max_occurrences=rule.count,
        from_account_id=source.id, to_type=to.type,
        to_account_id=to.account_id if isinstance(to, OwnDestination) else None,
        to_account_number=destination.account_number if isinstance(to, AtriumDestination) else None,
        to_payee_id=to.payee_id if isinstance(to, PayeeDestination) else None,
        to_display=destination.display[:160], amount_minor=data.amount_minor, currency=data.currency,
        memo=memo, status="active", next_index=0, next_run_on=domain.occurrence(rule, 0),
        consecutive_failures=0, idempotency_key=idempotency_key, request_hash=request_hash,
        created_at=now, updated_at=now,
    )
    try:
        # A concurrent twin with the same key waits on the unique index, then replays this order.
        with session.begin_nested():
            session.add(order)
    except IntegrityError:
        twin = _by_key(session, customer_id, idempotency_key)
        if twin is None:
            raise
        return _replay(twin, request_hash)
    return to_read(order)


def list_orders(session: Session, *, customer_id: str, status: str | None = None) -> list[OrderRead]:
    """The customer's orders, newest first."""
    stmt = select(StandingOrder).where(StandingOrder.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(StandingOrder.status == status)
    rows = session.scalars(stmt.order_by(StandingOrder.id.desc()).limit(LIST_MAX))
    return [to_read(o) for o in rows]


def get_order(session: Session, *, customer_id: str, order_id: str) -> OrderDetail:
    """One order of the customer's with its latest executions (newest first)."""
    order = owned(session, customer_id=customer_id, order_id=order_id)
    executions = session.scalars(
        select(OrderExecution).where(OrderExecution.order_id == order.id)
        .order_by(OrderExecution.occurrence_index.desc()).limit(EXECUTIONS_SHOWN)
    )
    return OrderDetail(**to_read(order).model_dump(), executions=[execution_read(e) for e in executions])


def cancel_order(session: Session, *, customer_id: str, order_id: str) -> OrderRead:
    """Stop an active or suspended order: no occurrence runs after this commits. Cancelling a cancelled
    order returns it unchanged (a retried request must not fail); a completed one is a 409."""
    order = owned(session, customer_id=customer_id, order_id=order_id, lock=True)
    if order.status == "cancelled":
        return to_read(order)
    if order.status == "completed":
        raise OrderFinished("the order has already made its last payment", order_id=order_id)
    now = clock.now()
    order.status, order.next_run_on, order.updated_at, order.ended_at = "cancelled", None, now, now
    session.flush()
    return to_read(order)
