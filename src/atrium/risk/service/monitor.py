"""The post-event monitor: completed activity looked at again with what the bank knows now.

Fraud is often found after the fact — a card or a device is blocked tomorrow, a new rule or model learns
a pattern. Each run takes allowed decisions of the last `risk.monitor_window_h` hours whose activity
completed (a transfer or QR payment after its TransferCompleted; card, API, sign-in and device activity
complete when allowed) and that were not checked under the current risk revision, and re-scores them: the
current block and watch lists at the current time, the live rules that hold or deny, and the current
champion on the vector logged at decision time. What now reaches the channel's review threshold gets a
case (nothing is held: the money has moved) and a RiskAlertRaised for the customer's inbox. A decision
the engine made under the current revision is not looked at again (the same lists, rules and model said
allow), unless the channel's fail policy made it.

Idempotent per decision: an alerted decision is never alerted again (`alerted_at`), and a checked one is
checked again only after a rule, list or model change (`monitored_stamp`).

Without reading the whole window every minute. A cursor row (`risk_monitor_cursor`) holds, for the
current revision stamp, how far each of three reads got, and only that row's holder works (two monitors at
once: the second finds the row locked and does nothing, so no decision is taken twice):

1. The re-scan. When the stamp changes, the log's end becomes `base`, and positions up to it are read in
   (occurred_at, seq) order from the window's start along the occurred_at index, a batch at a time across
   runs: every decision of the window once per stamp.
2. The tail. Positions past `base` are read in log order as they arrive; nearly all of them the engine
   decided under this stamp, so few are candidates (fail-policy allows, and decisions under an earlier
   stamp that committed after the pass began).
3. What may become a candidate later is remembered (`risk_monitor_pending`) and asked for again each run:
   a payment passed before it completed (its decision is checked once completed, or forgotten once it
   leaves the window), and a position passed while invisible within the `GAP_SPAN` positions below the
   log's end — positions are assigned at INSERT and become visible at COMMIT, so a transaction in flight
   leaves a gap that fills later — forgotten if still unseen after `risk.gap_timeout_s` (rolled back, or a
   value an ON CONFLICT burned), as the feature state's tail does (service/state.py).

A run with nothing new thus reads the new log positions, the remembered ones, and the cursor — not the
window. Once a stamp's re-scan is done, a decision that becomes a candidate through a path not listed
above would wait for the next stamp; there is none: outcome, revision and the fail-policy flag are written
once, completion only ever sets `completed_at`, and only the monitor writes `alerted_at`. The caveat is
the feature state's: a decision that commits longer than `risk.gap_timeout_s` after the tail passed its
position (or further than `GAP_SPAN` below the log's end then) waits for the next stamp's re-scan.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from atrium.risk.models import RiskDecision, RiskMonitorCursor
from atrium.risk.service import cases, setup
from atrium.risk.service.setup import Setup

log = get_logger("atrium.risk.monitor")
NEEDS_COMPLETION = ("transfer", "qr")  # money moves only once payments says so
GAP_SPAN = 1000  # positions below the log's end that may belong to transactions still in flight
TAIL_SPAN = 50_000  # log positions one batch reads past the tail's position, at most


@dataclass
class MonitorReport:
    checked: int = 0
    alerted: int = 0
    case_ids: list[str] = field(default_factory=list)
    more: bool = False  # the batch was full or the tail is behind: run another batch now


def _findings(config: Setup, row: RiskDecision, now: float) -> list[str]:
    """Reason codes that would hold this activity today (empty: still fine)."""
    event = repository.event_of_row(row)
    codes = [f"list.block.{hit.subject_kind}" for hit in config.lists.match(event, now)
             if hit.list_kind == "block"]
    if repository.has_features(row):
        features = repository.logged_features(row)
        env: dict[str, float | str] = event_fields(event)
        env.update(features)
        evaluation = config.rules.evaluate(env)
        codes += [hit.reason for hit in evaluation.live_hits if hit.action in ("review", "deny")]
        if config.champion is not None:
            score = config.champion.score(features)
            if score >= config.policy(row.channel).review_at:
                codes.append("model.high_score")
    return list(dict.fromkeys(codes))


def _check(session: Session, config: Setup, row: RiskDecision, now: datetime, report: MonitorReport) -> None:
    report.checked += 1
    row.monitored_stamp, row.monitored_at = config.stamp, now
    codes = _findings(config, row, now.timestamp())
    if not codes:
        return
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


def _completed(row: RiskDecision) -> bool:
    return row.completed_at is not None or row.channel not in NEEDS_COMPLETION


def _restart(session: Session, cursor: RiskMonitorCursor, stamp: str, end: int, now: datetime) -> list[int]:
    """A new stamp: the window is examined again from its start; the positions just below the log's end
    not visible yet are returned (to remember: their transactions may be in flight)."""
    cursor.stamp, cursor.base, cursor.high, cursor.started_at = stamp, end, end, now
    cursor.scan_at, cursor.scan_seq, cursor.scan_done = None, None, False
    low = max(0, end - GAP_SPAN)
    present = repository.positions_between(session, low, end)
    log.info("risk_monitor_restart", stamp=stamp, base=end)
    return [p for p in range(low + 1, end + 1) if p not in present]


def monitor(session: Session, now: datetime | None = None, *, limit: int | None = None) -> MonitorReport:
    """One batch of the monitor (see the module docstring). Flushes; the caller commits."""
    settings = get_settings().risk
    now = now or clock.now()
    report = MonitorReport()
    cursor = repository.monitor_cursor(session, now)
    if cursor is None:  # another monitor is at work
        return report
    config = setup.current(session)
    since = now - timedelta(hours=settings.monitor_window_h)
    budget = limit or settings.monitor_batch
    end = repository.max_decision_seq(session)
    remember: list[int] = []
    if cursor.stamp != config.stamp or end < cursor.high:  # a new revision (or a log started again)
        remember = _restart(session, cursor, config.stamp, end, now)
    forget = _pending(session, config, since, budget, now - timedelta(seconds=settings.gap_timeout_s), now,
                      report)
    budget -= report.checked
    if budget > 0 and not cursor.scan_done:
        budget -= _rescan(session, config, cursor, since, budget, now, report, remember)
    if budget > 0:
        budget -= _tail(session, config, cursor, since, end, budget, now, report, remember)
    report.more = report.more or budget <= 0
    repository.forget_pending(session, forget)
    repository.note_pending(session, remember, now)
    cursor.updated_at = now
    session.flush()
    return report


def _pending(session: Session, config: Setup, since: datetime, budget: int, expired_before: datetime,
             now: datetime, report: MonitorReport) -> set[int]:
    """The remembered positions (read 3): check those that became candidates; the positions to forget —
    checked, no longer to check (alerted, out of the window), or unseen since `expired_before`."""
    actions = repository.pending_actions(session, stamp=config.stamp, since=since,
                                         needs_completion=NEEDS_COMPLETION, expired_before=expired_before)
    due = sorted(p for p, state in actions if state == repository.PENDING_DUE)[:budget]
    for row in repository.pending_decisions(session, due):
        _check(session, config, row, now, report)
    forget = set(due)
    forget.update(p for p, state in actions if state != repository.PENDING_DUE)
    return forget


def _rescan(session: Session, config: Setup, cursor: RiskMonitorCursor, since: datetime, budget: int,
            now: datetime, report: MonitorReport, remember: list[int]) -> int:
    """The re-scan's next rows (read 1 of the module docstring); how many were read."""
    after = None
    if cursor.scan_at is not None and cursor.scan_seq is not None:
        after = (cursor.scan_at, cursor.scan_seq)
    rows = repository.rescan_decisions(session, stamp=config.stamp, since=since, base=cursor.base,
                                       after=after, limit=budget)
    if rows:
        cursor.scan_at, cursor.scan_seq = rows[-1].occurred_at, rows[-1].seq
    cursor.scan_done = len(rows) < budget
    remember += _take(session, config, rows, now, report)
    return len(rows)


def _tail(session: Session, config: Setup, cursor: RiskMonitorCursor, since: datetime, end: int,
          budget: int, now: datetime, report: MonitorReport, remember: list[int]) -> int:
    """The tail's next rows up to the log's `end` (read 2), and the invisible positions it passed near that
    end (3); how many rows were read."""
    if end <= cursor.high:
        return 0
    first = repository.next_position(session, cursor.high) or end  # past a stretch of unused positions
    top = min(end, first - 1 + TAIL_SPAN)
    rows = repository.tail_decisions(session, stamp=config.stamp, since=since, high=cursor.high, top=top,
                                     limit=budget)
    reached = rows[-1].seq if len(rows) == budget else top
    remember += _take(session, config, rows, now, report)
    low = max(cursor.high, end - GAP_SPAN)
    if reached > low:
        present = repository.positions_between(session, low, reached)
        remember += [p for p in range(low + 1, reached + 1) if p not in present]
    cursor.high = reached
    report.more = reached < end
    return len(rows)


def _take(session: Session, config: Setup, rows: Sequence[RiskDecision], now: datetime,
          report: MonitorReport) -> list[int]:
    """Check the completed ones of `rows`; the positions of the payments still waiting to complete."""
    waiting: list[int] = []
    for row in rows:
        if _completed(row):
            _check(session, config, row, now, report)
        else:
            waiting.append(row.seq)
    return waiting
