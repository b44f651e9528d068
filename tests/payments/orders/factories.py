"""Order test helpers: create orders through the service, run the job, read executions."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlalchemy import func, select

from atrium.payments.models import Transfer
from atrium.payments.orders import service as orders
from atrium.payments.orders.schemas import OrderCreate, OrderDetail, OrderRead
from atrium.payments.orders.tasks import OrdersRun, run_due

_keys = count(1)
TODAY = date(2024, 5, 15)  # the payments tests' frozen clock: noon in Shanghai


def body(from_account_id: str, to: dict[str, Any], **over: Any) -> OrderCreate:
    base = {
        "from_account_id": from_account_id,
        "to": to,
        "amount_minor": 1_000,
        "currency": "CNY",
        "memo": "rent",
        "frequency": "once",
        "start_on": TODAY.isoformat(),
    }
    return OrderCreate.model_validate(base | over)


def create(db, customer_id: str, data: OrderCreate, key: str | None = None) -> OrderRead:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return orders.create_order(
            s, customer_id=customer_id, idempotency_key=key or f"order-{next(_keys):05}", data=data
        )


def detail(db, customer_id: str, order_id: str) -> OrderDetail:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return orders.get_order(s, customer_id=customer_id, order_id=order_id)


def run(db, today: date | None = None) -> OrdersRun:  # type: ignore[no-untyped-def]
    return run_due(db, today=today)


def transfers(db) -> list[Transfer]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return list(s.scalars(select(Transfer).order_by(Transfer.id)))


def transfer_count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Transfer)) or 0
