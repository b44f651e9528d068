"""The device domain's scheduled job: forget spent nonces past their expiry (every 10 minutes). A nonce's
row is only needed while the nonce itself could still be accepted."""

from __future__ import annotations

from atrium.db.session import Database
from atrium.identity.devices import service
from atrium.runtime import job


@job("identity.devices.purge_nonces", 600)
def purge_spent_nonces_job(db: Database) -> int:
    return db.run(service.purge_spent_nonces)
