"""Housekeeping: ceremonies live two minutes; their rows are deleted an hour after they ended."""

from __future__ import annotations

from atrium.db.session import Database
from atrium.identity.passkeys import service
from atrium.runtime import job


@job("passkeys.purge_ceremonies", 600)
def purge_ceremonies_job(db: Database) -> int:
    return db.run(lambda session: service.purge_ceremonies(session))
