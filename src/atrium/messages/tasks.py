"""The inbox's jobs: deliver pending notifications, and walk open broadcasts a batch at a time.

Each notification is claimed in a transaction of its own and delivered in another, so no transaction is
open across more than one hand-over and a slow gateway never holds a request's; each broadcast batch is one
transaction. Both are idempotent: a run repeated after a crash adds nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.logs import get_logger
from atrium.messages import service
from atrium.runtime import job

log = get_logger("atrium.messages.tasks")


@dataclass
class DeliveryReport:
    outcomes: Counter[str] = field(default_factory=Counter)  # sent | skipped | failed | retry | gone

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def deliver_pending(db: Database, *, limit: int | None = None) -> DeliveryReport:
    """Hand every due notification (up to `limit`) to its channel."""
    report = DeliveryReport()
    with db.read_session() as s:
        items = service.due(s, limit=limit)
    for item in items:
        if not db.run(lambda s, item=item: service.claim(s, item)):
            continue  # another runner has it
        try:
            outcome = db.run(lambda s, item=item: service.deliver_one(s, item.notification_id))
        except Exception as exc:  # a bug or the database: count the attempt, keep the notification
            log.warning("notification_delivery_crashed", notification_id=item.notification_id,
                        error=type(exc).__name__, exc_info=True)
            outcome = db.run(lambda s, item=item, exc=exc: service.record_failure(
                s, item.notification_id, f"error:{type(exc).__name__}"))
        report.outcomes[outcome] += 1
    return report


def run_broadcasts(db: Database, *, batches: int = 5) -> int:
    """Advance each open broadcast by up to `batches` batches; returns how many customers were reached."""
    size = get_settings().messages.broadcast_batch
    with db.read_session() as s:
        ids = service.open_broadcast_ids(s)
    reached = 0
    for broadcast_id in ids:
        for _ in range(batches):
            result = db.run(lambda s, b=broadcast_id: service.run_broadcast_batch(s, b, batch=size))
            reached += result.reached
            if result.finished:
                break
    return reached


@job("messages.deliver", interval_s=2.0)
def deliver_job(db: Database, *, max_batches: int = 20) -> DeliveryReport:
    """Deliver batch after batch while full batches keep coming (a burst is not paced at one batch per
    tick), up to `max_batches`, then yield until the next tick."""
    size = get_settings().messages.delivery_batch
    total = DeliveryReport()
    for _ in range(max_batches):
        report = deliver_pending(db, limit=size)
        total.outcomes.update(report.outcomes)
        if report.handled < size:
            break
    return total


@job("messages.broadcast", interval_s=5.0)
def broadcast_job(db: Database) -> int:
    return run_broadcasts(db)
