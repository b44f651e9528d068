"""All of the risk domain's SQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.risk.domain.events import RiskEvent
from atrium.risk.models import (
    RiskCase,
    RiskCaseAction,
    RiskDecision,
    RiskLabel,
    RiskListAudit,
    RiskListEntry,
    RiskModel,
    RiskRevision,
    RiskRule,
)

REVISION_ROW = 1
# Entity kind (RiskEvent attribute) → decision column.
ENTITY_COLUMN = {"customer": RiskDecision.customer_id, "card": RiskDecision.card,
                 "account": RiskDecision.account, "device": RiskDecision.device,
                 "payee": RiskDecision.payee, "terminal": RiskDecision.terminal, "ip": RiskDecision.ip}
# What the feature state needs of a logged decision (not its evidence: features, hits, reasons).
EVENT_COLUMNS = (RiskDecision.seq, RiskDecision.id, RiskDecision.occurred_at, RiskDecision.channel,
                 RiskDecision.amount_minor, RiskDecision.currency, RiskDecision.customer_id,
                 RiskDecision.card, RiskDecision.account, RiskDecision.device, RiskDecision.payee,
                 RiskDecision.terminal,
                 RiskDecision.ip, RiskDecision.lat, RiskDecision.lon)


def event_of_row(row: Row[Any] | RiskDecision) -> RiskEvent:
    """The engine's event for a logged decision (a full row or an EVENT_COLUMNS row)."""
    return RiskEvent(
        event_id=row.id, at=row.occurred_at.timestamp(), channel=row.channel, amount_minor=row.amount_minor,
        currency=row.currency, customer=row.customer_id, card=row.card, account=row.account,
        device=row.device, payee=row.payee, terminal=row.terminal, ip=row.ip, lat=row.lat, lon=row.lon,
    )


# --- revision ------------------------------------------------------------------------------------------


def revision_stamp(session: Session) -> str:
    return session.scalar(select(RiskRevision.stamp).where(RiskRevision.id == REVISION_ROW)) or ""


def bump_revision(session: Session) -> str:
    """A fresh stamp. The UPDATE also serialises concurrent writers of rules, lists and models."""
    stamp = new_id("rrev")
    values = {"stamp": stamp, "changed_at": clock.now()}
    done = session.execute(update(RiskRevision).where(RiskRevision.id == REVISION_ROW).values(**values))
    if not done.rowcount:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(RiskRevision(id=REVISION_ROW, **values))
        except IntegrityError:  # another first writer created the row meanwhile
            session.execute(update(RiskRevision).where(RiskRevision.id == REVISION_ROW).values(**values))
    session.flush()
    return stamp


# --- decisions (the feature log) -----------------------------------------------------------------------


def get_decision(session: Session, decision_id: str) -> RiskDecision | None:
    return session.scalar(select(RiskDecision).where(RiskDecision.id == decision_id))


def decision_by_subject(session: Session, channel: str, subject_ref: str) -> RiskDecision | None:
    return session.scalar(
        select(RiskDecision).where(RiskDecision.channel == channel, RiskDecision.subject_ref == subject_ref)
    )


def insert_decision(session: Session, values: dict[str, Any]) -> bool:
    """Log a decision; False if its subject was decided meanwhile (by another process). One statement —
    INSERT … ON CONFLICT DO NOTHING — rather than a savepoint around an INSERT (three round trips)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(RiskDecision).values(**values).on_conflict_do_nothing(
        index_elements=["channel", "subject_ref"])
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def decided_subjects(session: Session, subjects: Collection[tuple[str, str]]) -> bool:
    """Whether any of these (channel, subject_ref) was decided before."""
    by_channel: dict[str, list[str]] = {}
    for channel, ref in subjects:
        by_channel.setdefault(channel, []).append(ref)
    return any(
        session.scalar(select(RiskDecision.seq).where(
            RiskDecision.channel == channel, RiskDecision.subject_ref.in_(refs)).limit(1)) is not None
        for channel, refs in by_channel.items()
    )


def insert_decisions(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Log several decisions in one statement; returns {id: position} of those inserted (a subject decided
    meanwhile by another process is left out). Core on the table, not the ORM: one compiled statement,
    executed many (SQLAlchemy's insertmanyvalues)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = RiskDecision.__table__
    statement = insert(table).on_conflict_do_nothing(index_elements=["channel", "subject_ref"]).returning(
        table.c.id, table.c.seq)
    return {row.id: row.seq for row in session.execute(statement, list(rows))}


def entities_events(session: Session, kind: str, keys: Collection[str],
                    since: datetime) -> Sequence[Row[Any]]:
    """Several entities' (of one kind) logged events since `since` (EVENT_COLUMNS): one query."""
    column = ENTITY_COLUMN[kind]
    return session.execute(
        select(*EVENT_COLUMNS).where(column.in_(list(keys)), RiskDecision.occurred_at > since)
    ).all()


def events_after(session: Session, high: int, gaps: Collection[int], *, limit: int) -> Sequence[Row[Any]]:
    """Logged events past position `high`, and at the positions `gaps` not seen yet, in log order."""
    where = RiskDecision.seq > high
    if gaps:
        where = or_(where, RiskDecision.seq.in_(list(gaps)))
    return session.execute(select(*EVENT_COLUMNS).where(where).order_by(RiskDecision.seq).limit(limit)).all()


def positions_since(session: Session, low: int) -> list[int]:
    return list(session.scalars(select(RiskDecision.seq).where(RiskDecision.seq > low)))


def max_decision_seq(session: Session) -> int:
    return session.scalar(select(func.max(RiskDecision.seq))) or 0


def decisions_between(session: Session, start: datetime, end: datetime) -> Sequence[RiskDecision]:
    return session.scalars(
        select(RiskDecision).where(RiskDecision.occurred_at >= start, RiskDecision.occurred_at < end)
        .order_by(RiskDecision.occurred_at, RiskDecision.seq)
    ).all()


def customer_decisions(session: Session, customer_id: str, *, limit: int,
                       exclude: str | None = None) -> Sequence[RiskDecision]:
    query = select(RiskDecision).where(RiskDecision.customer_id == customer_id)
    if exclude is not None:
        query = query.where(RiskDecision.id != exclude)
    return session.scalars(query.order_by(RiskDecision.occurred_at.desc()).limit(limit)).all()


def decisions_for_transfer(session: Session, transfer_id: str) -> Sequence[RiskDecision]:
    return session.scalars(
        select(RiskDecision).where(
            or_(RiskDecision.transfer_id == transfer_id,
                (RiskDecision.subject_ref == transfer_id) & RiskDecision.channel.in_(("transfer", "qr")))
        )
    ).all()


def monitor_candidates(session: Session, *, since: datetime, stamp: str, needs_completion: Collection[str],
                       limit: int) -> Sequence[RiskDecision]:
    """Allowed decisions since `since` whose activity completed (or needs no completion), not yet alerted
    on and not yet checked under revision `stamp`, oldest first. A decision the engine made under `stamp`
    itself is not one: the same lists, rules and model said allow then (a fail-policy allow is, as the
    engine never looked at it)."""
    completed = or_(RiskDecision.completed_at.is_not(None),
                    RiskDecision.channel.not_in(list(needs_completion)))
    return session.scalars(
        select(RiskDecision).where(
            RiskDecision.occurred_at >= since, RiskDecision.outcome == "allow", completed,
            RiskDecision.alerted_at.is_(None),
            or_(RiskDecision.revision != stamp, RiskDecision.fallback.is_(True)),
            or_(RiskDecision.monitored_stamp.is_(None), RiskDecision.monitored_stamp != stamp),
        ).order_by(RiskDecision.seq).limit(limit)
        # Two monitors at once (two processes) take different rows on PostgreSQL; SQLite has one writer.
        .with_for_update(skip_locked=True)
    ).all()


# --- labels --------------------------------------------------------------------------------------------


def add_label(session: Session, decision_id: str, fraud: bool, source: str, staff_id: str | None,
              arrived_at: datetime) -> RiskLabel:
    row = RiskLabel(id=new_id("rlab"), decision_id=decision_id, fraud=fraud, source=source,
                    staff_id=staff_id, arrived_at=arrived_at)
    session.add(row)
    session.flush()
    return row


def labels_of(session: Session, decision_id: str) -> Sequence[RiskLabel]:
    return session.scalars(
        select(RiskLabel).where(RiskLabel.decision_id == decision_id)
        .order_by(RiskLabel.arrived_at, RiskLabel.seq)
    ).all()


def labels_for(session: Session, decision_ids: Collection[str], *,
               known_at: datetime | None = None) -> Sequence[Row[Any]]:
    """(id, decision_id, fraud, arrived_at, seq) of the labels of `decision_ids`, in arrival order."""
    out: list[Row[Any]] = []
    ids = list(decision_ids)
    for i in range(0, len(ids), 500):  # keep IN lists small for both databases
        query = select(RiskLabel.id, RiskLabel.decision_id, RiskLabel.fraud, RiskLabel.arrived_at,
                       RiskLabel.seq).where(
            RiskLabel.decision_id.in_(ids[i:i + 500]))
        if known_at is not None:
            query = query.where(RiskLabel.arrived_at <= known_at)
        out.extend(session.execute(query).all())
    out.sort(key=lambda r: (r.arrived_at, r.seq))
    return out


def labels_after(session: Session, high: int, gaps: Collection[int], *, limit: int) -> Sequence[Row[Any]]:
    where = RiskLabel.seq > high
    if gaps:
        where = or_(where, RiskLabel.seq.in_(list(gaps)))
    return session.execute(
        select(RiskLabel.seq, RiskLabel.id, RiskLabel.decision_id, RiskLabel.fraud, RiskLabel.arrived_at)
        .where(where).order_by(RiskLabel.seq).limit(limit)
    ).all()


def label_positions_since(session: Session, low: int) -> list[int]:
    return list(session.scalars(select(RiskLabel.seq).where(RiskLabel.seq > low)))


def max_label_seq(session: Session) -> int:
    return session.scalar(select(func.max(RiskLabel.seq))) or 0


def count_labels(session: Session, since: datetime, *, fraud: bool | None = None) -> int:
    query = select(func.count()).select_from(RiskLabel).where(RiskLabel.arrived_at >= since)
    if fraud is not None:
        query = query.where(RiskLabel.fraud.is_(fraud))
    return session.scalar(query) or 0


# --- cases ---------------------------------------------------------------------------------------------


def get_case(session: Session, case_id: str) -> RiskCase | None:
    return session.get(RiskCase, case_id)


def case_for_decision(session: Session, decision_id: str) -> RiskCase | None:
    return session.scalar(select(RiskCase).where(RiskCase.decision_id == decision_id))


def cases(session: Session, *, status: str | None, outcome: str | None, channel: str | None,
          limit: int, after: tuple[datetime, str] | None = None) -> Sequence[RiskCase]:
    query = select(RiskCase)
    if status is not None:
        query = query.where(RiskCase.status == status)
    if outcome is not None:
        query = query.where(RiskCase.outcome == outcome)
    if channel is not None:
        query = query.where(RiskCase.channel == channel)
    if after is not None:
        at, case_id = after
        query = query.where(or_(RiskCase.opened_at > at,
                                (RiskCase.opened_at == at) & (RiskCase.id > case_id)))
    return session.scalars(query.order_by(RiskCase.opened_at, RiskCase.id).limit(limit)).all()


def count_cases(session: Session, status: str = "open") -> int:
    return session.scalar(select(func.count()).select_from(RiskCase).where(RiskCase.status == status)) or 0


def resolve_case(session: Session, case_id: str, *, to_status: str, resolution: str, staff_id: str,
                 note: str, at: datetime) -> bool:
    """Move an open case to `to_status`; False if it was not open any more. A conditional UPDATE: of two
    analysts acting at once, the second's UPDATE waits for the first's row lock and then matches nothing."""
    result = session.execute(
        update(RiskCase).where(RiskCase.id == case_id, RiskCase.status == "open").values(
            status=to_status, resolution=resolution, resolved_by=staff_id, resolved_at=at, updated_at=at,
            note=note)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def add_action(session: Session, case_id: str, action: str, staff_id: str | None, *,
               from_status: str | None = None, to_status: str | None = None, note: str = "",
               detail: dict[str, Any] | None = None) -> RiskCaseAction:
    row = RiskCaseAction(id=new_id("rcac"), case_id=case_id, action=action, staff_id=staff_id,
                         from_status=from_status, to_status=to_status, note=note, detail=detail or {},
                         at=clock.now())
    session.add(row)
    session.flush()
    return row


def case_actions(session: Session, case_id: str) -> Sequence[RiskCaseAction]:
    return session.scalars(
        select(RiskCaseAction).where(RiskCaseAction.case_id == case_id)
        .order_by(RiskCaseAction.at, RiskCaseAction.id)
    ).all()


# --- rules ---------------------------------------------------------------------------------------------


def get_rule(session: Session, rule_id: str, *, lock: bool = False) -> RiskRule | None:
    query = select(RiskRule).where(RiskRule.id == rule_id)
    return session.scalar(query.with_for_update() if lock else query)


def rule_versions(session: Session, key: str) -> Sequence[RiskRule]:
    query = select(RiskRule).where(RiskRule.key == key).order_by(RiskRule.version.desc())
    return session.scalars(query).all()


def max_rule_version(session: Session, key: str) -> int:
    return session.scalar(select(func.max(RiskRule.version)).where(RiskRule.key == key)) or 0


def rules(session: Session, *, status: str | None = None, key: str | None = None) -> Sequence[RiskRule]:
    query = select(RiskRule)
    if status is not None:
        query = query.where(RiskRule.status == status)
    if key is not None:
        query = query.where(RiskRule.key == key)
    return session.scalars(query.order_by(RiskRule.key, RiskRule.version.desc())).all()


# --- lists ---------------------------------------------------------------------------------------------


def get_entry(session: Session, entry_id: str) -> RiskListEntry | None:
    return session.get(RiskListEntry, entry_id)


def active_entry(session: Session, list_kind: str, subject_kind: str, value: str,
                 now: datetime) -> RiskListEntry | None:
    return session.scalar(
        select(RiskListEntry).where(
            RiskListEntry.list_kind == list_kind, RiskListEntry.subject_kind == subject_kind,
            RiskListEntry.value == value, RiskListEntry.removed_at.is_(None),
            or_(RiskListEntry.expires_at.is_(None), RiskListEntry.expires_at > now),
        ).limit(1)
    )


def live_entries(session: Session, now: datetime) -> Sequence[RiskListEntry]:
    """Entries not removed and not yet expired at `now` (the engine re-checks expiry per decision)."""
    return session.scalars(
        select(RiskListEntry).where(
            RiskListEntry.removed_at.is_(None),
            or_(RiskListEntry.expires_at.is_(None), RiskListEntry.expires_at > now),
        )
    ).all()


def entries(session: Session, *, list_kind: str | None, subject_kind: str | None, include_removed: bool,
            limit: int) -> Sequence[RiskListEntry]:
    query = select(RiskListEntry)
    if list_kind is not None:
        query = query.where(RiskListEntry.list_kind == list_kind)
    if subject_kind is not None:
        query = query.where(RiskListEntry.subject_kind == subject_kind)
    if not include_removed:
        query = query.where(RiskListEntry.removed_at.is_(None))
    return session.scalars(query.order_by(RiskListEntry.created_at.desc(), RiskListEntry.id.desc())
                           .limit(limit)).all()


def add_audit(session: Session, entry: RiskListEntry, action: str, staff_id: str,
              reason: str) -> RiskListAudit:
    row = RiskListAudit(id=new_id("rlau"), entry_id=entry.id, action=action, list_kind=entry.list_kind,
                        subject_kind=entry.subject_kind, display=entry.display, staff_id=staff_id,
                        reason=reason, at=clock.now())
    session.add(row)
    session.flush()
    return row


def audit(session: Session, *, entry_id: str | None, limit: int) -> Sequence[RiskListAudit]:
    query = select(RiskListAudit)
    if entry_id is not None:
        query = query.where(RiskListAudit.entry_id == entry_id)
    query = query.order_by(RiskListAudit.at.desc(), RiskListAudit.id.desc()).limit(limit)
    return session.scalars(query).all()


# --- models --------------------------------------------------------------------------------------------


def get_model(session: Session, model_id: str, *, lock: bool = False) -> RiskModel | None:
    query = select(RiskModel).where(RiskModel.id == model_id)
    return session.scalar(query.with_for_update() if lock else query)


def model_by_version(session: Session, version: str) -> RiskModel | None:
    return session.scalar(select(RiskModel).where(RiskModel.version == version))


def model_in_role(session: Session, role: str) -> RiskModel | None:
    return session.scalar(
        select(RiskModel).where(RiskModel.role == role).order_by(RiskModel.created_at.desc()).limit(1)
    )


def models(session: Session, *, limit: int) -> Sequence[RiskModel]:
    return session.scalars(select(RiskModel).order_by(RiskModel.created_at.desc()).limit(limit)).all()
