"""The ledger's scheduled job: expire pending holds whose time has passed (every 60 s)."""

from __future__ import annotations

from atrium.db.session import Database
from atrium.ledger import service
from atrium.runtime import job

BATCH = 500


@job("ledger.expire_holds", 60)
def expire_holds_job(db: Database) -> int:
    """Expire in batches, one unit of work each, so a large backlog never holds locks for long."""
    total = 0
    while True:
        expired = db.run(lambda session: service.expire_holds(session, limit=BATCH))
        total += expired
        if expired < BATCH:
            return total
