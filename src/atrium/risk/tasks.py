"""Risk's scheduled jobs.

- `risk.monitor` (every minute): the post-event monitor, batch after batch in a unit of work each, while
  a batch says there is more (a full batch, or the log's tail not reached). Idempotent per decision (see
  service/monitor.py).
- `risk.retrain` (checked hourly): when the newest trained model is older than `risk.retrain_every_days`,
  train a challenger on the last `risk.retrain_window_days` of the feature log, if at least
  `risk.retrain_min_rows` labelled decisions with `risk.retrain_min_frauds` frauds exist; otherwise log and
  skip. Two people promote a challenger after comparing it in shadow (`service.request_promotion`, then
  another approves: `service.approve_promotion`). Checked hourly rather than scheduled weekly, so a
  process that restarts more often than weekly still retrains.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.kit import clock
from atrium.logs import get_logger
from atrium.risk import service
from atrium.risk.errors import NotEnoughLabels
from atrium.risk.schemas import ModelRead
from atrium.risk.service import setup
from atrium.runtime import job

log = get_logger("atrium.risk.tasks")


@job("risk.monitor", interval_s=60.0)
def monitor_job(db: Database, *, max_batches: int = 20) -> service.MonitorReport:
    total = service.MonitorReport()
    size = get_settings().risk.monitor_batch
    setup.preload(db)  # not inside the batches' write transactions (SQLite's write lock: every decision's)
    for _ in range(max_batches):
        report = db.run(lambda s: service.monitor(s, limit=size))
        total.checked += report.checked
        total.alerted += report.alerted
        total.case_ids += report.case_ids
        if not report.more:
            break
    return total


def retrain(session: Session) -> ModelRead | None:
    """Train a challenger if one is due and enough labels exist; None (logged) otherwise."""
    settings = get_settings().risk
    now = clock.now()
    trained = [m for m in service.list_models(session, limit=20) if m.source == "trained"]
    if trained and now - trained[0].created_at < timedelta(days=settings.retrain_every_days):
        return None
    start = now - timedelta(days=settings.retrain_window_days)
    try:
        return service.train(session, start, now, now, min_rows=settings.retrain_min_rows,
                             min_frauds=settings.retrain_min_frauds)
    except NotEnoughLabels as exc:
        log.info("risk_retrain_skipped", reason=exc.detail)
        return None


@job("risk.retrain", interval_s=3600.0)
def retrain_job(db: Database) -> ModelRead | None:
    return db.run(retrain)
