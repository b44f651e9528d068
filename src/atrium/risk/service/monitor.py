"""The post-event monitor: completed activity looked at again with what the bank knows now.

Fraud is often found after the fact — a card or a device is blocked tomorrow, a new rule or model learns
a pattern. Each run takes allowed decisions of the last `risk.monitor_window_h` hours whose activity
completed (a transfer or QR payment after its TransferCompleted; card, API, sign-in and device activity
complete when allowed) and that were not checked under the current risk revision, and re-scores them: the
current block and watch lists at the current time, the live rules that hold or deny, and the current
champion on the vector logged at decision time. What now reaches the channel's review threshold gets a
case (nothing is held: the money has moved) and a RiskAlertRaised for the customer's inbox.

Idempotent per decision: an alerted decision is never alerted again (`alerted_at`), and a checked one is
checked again only after a rule, list or model change (`monitored_stamp`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.events import outbox
from atrium.events.catalogue import RiskAlertRaised
from atrium.kit import clock
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.domain.rules import event_fields
from atrium.risk.models import RiskDecision
from atrium.risk.service import cases, setup
from atrium.risk.service.setup import Setup

log = get_logger("atrium.risk.monitor")
NEEDS_COMPLETION = ("transfer", "qr")  # money moves only once payments says so


@dataclass
class MonitorReport:
    checked: int = 0
    alerted: int = 0
    case_ids: list[str] = field(default_factory=list)


def _findings(config: Setup, row: RiskDecision, now: float) -> list[str]:
    """Reason codes that would hold this activity today (empty: still fine)."""
    event = repository.event_of_row(row)
    codes = [f"list.block.{hit.subject_kind}" for hit in config.lists.match(event, now)
             if hit.list_kind == "block"]
    if row.features:
        features = {k: (math.nan if v is None else float(v)) for k, v in row.features.items()}
        env: dict[str, float | str] = event_fields(event)
        env.update(features)
        evaluation = config.rules.evaluate(env)
        codes += [hit.reason for hit in evaluation.live_hits if hit.action in ("review", "deny")]
        if config.champion is not None:
            score = config.champion.score(features)
            if score >= config.policy(row.channel).review_at:
                codes.append("model.high_score")
    return list(dict.fromkeys(codes))


def monitor(session: Session, now: datetime | None = None, *, limit: int | None = None) -> MonitorReport:
    """One batch of the monitor (see the module docstring). Flushes; the caller commits."""
    settings = get_settings().risk
    now = now or clock.now()
    config = setup.current(session)
    report = MonitorReport()
    rows = repository.monitor_candidates(
        session, since=now - timedelta(hours=settings.monitor_window_h), stamp=config.stamp,
        needs_completion=NEEDS_COMPLETION, limit=limit or settings.monitor_batch)
    for row in rows:
        report.checked += 1
        row.monitored_stamp, row.monitored_at = config.stamp, now
        codes = _findings(config, row, now.timestamp())
        if not codes:
            continue
        row.alerted_at = now
        case = cases.open_case(session, row, origin="monitor", held=False,
                               note="post-event monitor: " + ", ".join(codes))
        report.alerted += 1
        report.case_ids.append(case.id)
        if row.customer_id:
            outbox.record(session, RiskAlertRaised(
                customer_id=row.customer_id, decision_id=row.id, channel=row.channel, outcome=row.outcome,
                reason_codes=codes, source="monitor"))
        log.info("risk_monitor_alert", decision_id=row.id, case_id=case.id, reasons=codes)
    session.flush()
    return report
