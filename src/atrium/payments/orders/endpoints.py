"""/api/v1/orders: a customer's scheduled and standing orders. Parse → call the service → return.
Every order id is checked against the signed-in customer (someone else's → 404)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from atrium.db import idempotency
from atrium.payments.orders import service
from atrium.payments.orders.schemas import OrderCreate, OrderDetail, OrderRead
from atrium.web.deps import CurrentCustomer, IdempotencyKey, ReadOnlySession, StepUpToken, WriteSession

router = APIRouter(prefix="/orders", tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=40)]


def _replayed(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})


def _remember(session: Session, scope: str, key: str, request: Any, body: Any) -> JSONResponse:
    try:
        with session.begin_nested():
            idempotency.store(session, scope, key, request, 201, body)
    except idempotency.IdempotencyKeyInFlight:
        stored = idempotency.lookup(session, scope, key, request)
        if stored is None:
            raise
        return _replayed(stored)
    return JSONResponse(body, status_code=201)


@router.get("", response_model=list[OrderRead])
def list_orders(
    customer: CurrentCustomer, session: ReadOnlySession,
    status: Literal["active", "completed", "suspended", "cancelled"] | None = None,
) -> list[OrderRead]:
    return service.list_orders(session, customer_id=customer.id, status=status)


@router.post("", status_code=201, response_model=OrderRead,
             responses={409: {"description": "Idempotency-Key reused with another request"},
                        422: {"description": "Invalid schedule, account, destination or amount"}})
def create_order(
    body: OrderCreate, customer: CurrentCustomer, session: WriteSession, key: IdempotencyKey,
    step_up: StepUpToken = None,
) -> Response:
    """Schedule a one-off transfer (`frequency: once`) or a weekly or monthly standing order. Each payment
    runs on its date through the bank's `scheduled` channel limits; a failed payment is recorded with its
    reason, and three failures in a row suspend the order. An order to anyone but yourself answers 401
    `step-up-required` until repeated with the completed challenge in `Atrium-Step-Up`."""
    scope = f"customer:{customer.id}:orders"
    request = body.model_dump(mode="json")
    stored = idempotency.lookup(session, scope, key, request)
    if stored is not None:
        return _replayed(stored)
    result = service.create_order(session, customer_id=customer.id, idempotency_key=key, data=body,
                                  principal=customer, step_up=step_up)
    return _remember(session, scope, key, request, result.model_dump(mode="json"))


@router.get("/{order_id}", response_model=OrderDetail)
def get_order(order_id: OrderId, customer: CurrentCustomer, session: ReadOnlySession) -> OrderDetail:
    """The order and its executions (each occurrence: paid with its transfer, or failed with the reason)."""
    return service.get_order(session, customer_id=customer.id, order_id=order_id)


@router.post("/{order_id}/cancel", response_model=OrderRead)
def cancel_order(order_id: OrderId, customer: CurrentCustomer, session: WriteSession) -> OrderRead:
    return service.cancel_order(session, customer_id=customer.id, order_id=order_id)
