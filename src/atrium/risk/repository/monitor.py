"""The post-event monitor's SQL: its cursor, the positions it waits on, and its three reads of the decision
log — waiting positions, the window's re-scan after a revision change, and the log's tail (see
service/monitor.py for why these three find every candidate, and only once)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.risk.models import RiskDecision, RiskMonitorCursor, RiskMonitorPending

CURSOR_ROW = 1
NO_STAMP = "-"  # never a revision stamp (a random id, or "" before the first change): the first run restarts
_CHUNK = 500  # positions per statement (SQLite's bound-parameter limit)


def _insert(session: Session, model: type) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _open(stamp: str, since: datetime) -> ColumnElement[bool]:
    """Still to be checked under `stamp`: allowed in the window, not alerted on, not checked under `stamp`,
    and not a decision the engine itself made under `stamp` (the same lists, rules and model said allow
    then) — unless the fail policy made it, as the engine never looked at it."""
    return and_(
        RiskDecision.occurred_at >= since, RiskDecision.outcome == "allow", RiskDecision.alerted_at.is_(None),
        or_(RiskDecision.revision != stamp, RiskDecision.fallback.is_(True)),
        or_(RiskDecision.monitored_stamp.is_(None), RiskDecision.monitored_stamp != stamp),
    )


def monitor_cursor(session: Session, now: datetime) -> RiskMonitorCursor | None:
    """The cursor row, locked for this transaction (created on first use with `NO_STAMP`, so the first run
    examines the whole window). None while another monitor holds it (PostgreSQL: FOR UPDATE SKIP LOCKED;
    SQLite has one writer)."""
    query = (select(RiskMonitorCursor).where(RiskMonitorCursor.id == CURSOR_ROW)
             .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    row = session.scalar(query)
    if row is not None:
        return row
    if session.scalar(select(RiskMonitorCursor.id).where(RiskMonitorCursor.id == CURSOR_ROW)) is not None:
        return None  # another monitor holds it (an INSERT would wait for that monitor's transaction)
    created = session.execute(_insert(session, RiskMonitorCursor).values(
        id=CURSOR_ROW, stamp=NO_STAMP, base=0, high=0, scan_done=True, started_at=now, updated_at=now,
    ).on_conflict_do_nothing())
    if not created.rowcount:  # type: ignore[attr-defined]
        return None  # another monitor created it meanwhile
    return session.scalar(query)


def positions_between(session: Session, low: int, high: int) -> set[int]:
    """The log positions in (low, high] that this transaction sees."""
    query = select(RiskDecision.seq).where(RiskDecision.seq > low, RiskDecision.seq <= high)
    return set(session.scalars(query))


def next_position(session: Session, after: int) -> int | None:
    """The first log position past `after` that this transaction sees."""
    return session.scalar(select(func.min(RiskDecision.seq)).where(RiskDecision.seq > after))


def note_pending(session: Session, positions: Collection[int], now: datetime) -> None:
    """Remember positions to look at again (one already remembered keeps its time)."""
    ordered = sorted(set(positions))
    for i in range(0, len(ordered), _CHUNK):
        session.execute(_insert(session, RiskMonitorPending).values(
            [{"seq": p, "noted_at": now} for p in ordered[i:i + _CHUNK]]).on_conflict_do_nothing())


# A remembered position's decision: to check now, not yet (a payment not completed), nothing to check.
PENDING_DUE, PENDING_WAITING, PENDING_DONE = 2, 1, 0


def pending_actions(session: Session, *, stamp: str, since: datetime, needs_completion: Collection[str],
                    expired_before: datetime) -> list[tuple[int, int | None]]:
    """The remembered positions with something to do, as (position, state): PENDING_DUE (its decision is
    to check under `stamp` and its activity completed), PENDING_DONE (nothing left to check under `stamp`:
    checked, alerted, out of the window), or None (still unseen, first noted before `expired_before`).
    Positions PENDING_WAITING (a payment not completed yet) or unseen for less long are left out. One
    primary-key lookup per position through a correlated subquery: a join let PostgreSQL pick a scan of
    the whole log whenever the small table's statistics were stale."""
    still_open = _open(stamp, since)
    completed = or_(RiskDecision.completed_at.is_not(None),
                    RiskDecision.channel.not_in(list(needs_completion)))
    state = (select(case((and_(still_open, completed), PENDING_DUE), (still_open, PENDING_WAITING),
                        else_=PENDING_DONE))
             .where(RiskDecision.seq == RiskMonitorPending.seq).scalar_subquery())
    query = select(RiskMonitorPending.seq, state.label("state")).where(or_(
        state != PENDING_WAITING, and_(state.is_(None), RiskMonitorPending.noted_at < expired_before)))
    return [(row.seq, row.state) for row in session.execute(query)]


def pending_decisions(session: Session, positions: Collection[int]) -> Sequence[RiskDecision]:
    """The decisions at these (remembered) positions, in log order."""
    if not positions:
        return []
    return session.scalars(
        select(RiskDecision).where(RiskDecision.seq.in_(list(positions))).order_by(RiskDecision.seq)
    ).all()


def forget_pending(session: Session, positions: Collection[int]) -> None:
    """Stop remembering these positions."""
    ordered = sorted(positions)
    for i in range(0, len(ordered), _CHUNK):
        session.execute(delete(RiskMonitorPending).where(RiskMonitorPending.seq.in_(ordered[i:i + _CHUNK]))
                        .execution_options(synchronize_session=False))


def rescan_decisions(session: Session, *, stamp: str, since: datetime, base: int,
                     after: tuple[datetime, int] | None, limit: int) -> Sequence[RiskDecision]:
    """The next decisions of the window to check under `stamp` among positions up to `base`, in
    (occurred_at, seq) order past `after` — the occurred_at index walks the window from its start and
    each row once. Payments not yet completed among them are for the caller to remember."""
    query = select(RiskDecision).where(_open(stamp, since), RiskDecision.seq <= base)
    if after is not None:
        at, seq = after
        query = query.where(RiskDecision.occurred_at >= at, or_(
            RiskDecision.occurred_at > at, and_(RiskDecision.occurred_at == at, RiskDecision.seq > seq)))
    return session.scalars(query.order_by(RiskDecision.occurred_at, RiskDecision.seq).limit(limit)).all()


def tail_decisions(session: Session, *, stamp: str, since: datetime, high: int, top: int,
                   limit: int) -> Sequence[RiskDecision]:
    """Decisions at positions in (high, top] still to check under `stamp`, in log order: what the fail
    policy allowed, and what was decided under an earlier stamp but committed after this one's pass
    began. Payments not yet completed among them are for the caller to remember."""
    return session.scalars(
        select(RiskDecision).where(RiskDecision.seq > high, RiskDecision.seq <= top, _open(stamp, since))
        .order_by(RiskDecision.seq).limit(limit)
    ).all()
