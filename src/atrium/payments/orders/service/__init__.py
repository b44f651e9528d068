"""Order use cases (`atrium.payments.orders.service`). Services flush, never commit.

- manage: `create_order`, `list_orders`, `get_order`, `cancel_order`
- run: `due_order_ids`, `run_next` (the job in `orders/tasks.py` drives them), `bank_today`
"""

from atrium.payments.orders.service._common import bank_today
from atrium.payments.orders.service.manage import cancel_order, create_order, get_order, list_orders
from atrium.payments.orders.service.run import Outcome, due_order_ids, run_next

__all__ = [
    "Outcome", "bank_today", "cancel_order", "create_order", "due_order_ids", "get_order", "list_orders",
    "run_next",
]
