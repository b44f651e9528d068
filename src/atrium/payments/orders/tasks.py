"""The standing-order job: every minute, pay every due occurrence of every active order.

Each occurrence is its own unit of work (`service.run_next`), so one order's failure never holds back
another's and a crash loses nothing committed. Running the job twice, or in two processes at once, pays
nothing twice: the order row is locked per occurrence and each occurrence's transfer has a key derived
from (order id, occurrence date). A job that did not run for days catches up every missed occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from atrium.db.session import Database
from atrium.logs import get_logger
from atrium.payments.orders import service
from atrium.runtime import job

log = get_logger("atrium.payments.orders.tasks")

# Occurrences per order per run: a long outage is caught up over a few runs, not in one long loop.
MAX_PER_ORDER = 100


@dataclass(frozen=True)
class OrdersRun:
    orders: int
    paid: int  # paid or sent to the clearing rail
    failed: int
    errors: int  # unexpected errors (logged); the occurrence is retried at the next run


def run_due(db: Database, *, today: date | None = None) -> OrdersRun:
    day = today or service.bank_today()
    with db.read_session() as s:
        ids = service.due_order_ids(s, today=day)
    paid = failed = errors = 0
    for order_id in ids:
        try:
            for _ in range(MAX_PER_ORDER):
                outcome = db.run(lambda s, o=order_id: service.run_next(s, order_id=o, today=day))
                if outcome is None:
                    break
                if outcome.status != "failed":
                    paid += 1
                else:
                    failed += 1
        except Exception:
            errors += 1
            log.exception("standing order run failed", order_id=order_id)
    return OrdersRun(orders=len(ids), paid=paid, failed=failed, errors=errors)


@job("payments.orders.run", interval_s=60.0)
def run_orders(db: Database) -> OrdersRun:
    return run_due(db)
