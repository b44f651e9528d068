"""Scheduled payment jobs: submit pending interbank transfers to the clearing rail, and apply what the
rail reports back. Each job is idempotent and keeps no transaction open across a rail call."""

from __future__ import annotations

from atrium.db.session import Database
from atrium.payments.service.interbank import RailRunReport, receive_notifications, submit_pending
from atrium.runtime import job


@job("payments.rail.submit", interval_s=1.0)
def submit_to_rail(db: Database) -> RailRunReport:
    return submit_pending(db)


@job("payments.rail.poll", interval_s=1.0)
def poll_rail(db: Database) -> RailRunReport:
    return receive_notifications(db)
