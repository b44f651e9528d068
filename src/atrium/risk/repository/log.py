"""The decision log's SQL: the revision stamp, decisions (the feature log) and labels — what screening,
the feature state and training read and write."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.features import payer_habit_name
from atrium.risk.domain.features.names import FEATURE_NAMES
from atrium.risk.models import (
    RiskDecision,
    RiskLabel,
    RiskRevision,
)
from atrium.risk.repository import vectors

REVISION_ROW = 1
# Entity kind (RiskEvent attribute) → decision column.
ENTITY_COLUMN = {"customer": RiskDecision.customer_id, "card": RiskDecision.card,
                 "account": RiskDecision.account, "device": RiskDecision.device,
                 "payee": RiskDecision.payee, "terminal": RiskDecision.terminal, "ip": RiskDecision.ip}
# What the feature state needs of a logged decision (not its evidence: hits, reasons): the event, and its
# vector for the one feature the state keeps of it (`habit_of_row`).
EVENT_COLUMNS = (RiskDecision.seq, RiskDecision.id, RiskDecision.occurred_at, RiskDecision.channel,
                 RiskDecision.amount_minor, RiskDecision.currency, RiskDecision.customer_id,
                 RiskDecision.card, RiskDecision.account, RiskDecision.device, RiskDecision.payee,
                 RiskDecision.terminal,
                 RiskDecision.ip, RiskDecision.lat, RiskDecision.lon,
                 RiskDecision.feature_set, RiskDecision.feature_values, RiskDecision.features)


def event_of_row(row: Row[Any] | RiskDecision) -> RiskEvent:
    """The engine's event for a logged decision (a full row or an EVENT_COLUMNS row)."""
    return RiskEvent(
        event_id=row.id, at=row.occurred_at.timestamp(), channel=row.channel, amount_minor=row.amount_minor,
        currency=row.currency, customer=row.customer_id, card=row.card, account=row.account,
        device=row.device, payee=row.payee, terminal=row.terminal, ip=row.ip, lat=row.lat, lon=row.lon,
    )


def habit_of_row(session: Session, row: Row[Any] | RiskDecision, event: RiskEvent) -> float:
    """The habit (`features.payer_habit`) a logged decision's vector gave its event, NaN if none."""
    name = payer_habit_name(event)
    return math.nan if name is None else vectors.value_of(session, row, name)


def logged_features(row: RiskDecision) -> dict[str, float]:
    """A logged decision's feature vector over the whole vocabulary (FEATURE_NAMES), NaN where a feature had
    no value, as the engine saw it (`vectors.features_of` reads either way the log has kept it)."""
    features = dict(_NO_FEATURES)
    features.update(vectors.features_of(row))
    return features


_NO_FEATURES = dict.fromkeys(FEATURE_NAMES, math.nan)


# --- revision ------------------------------------------------------------------------------------------


# The decision path's statements, built once: core statements on the tables, with bound (and expanding)
# parameters, so each execution is a compiled-cache hit without building or hashing a statement again.
_LOG = RiskDecision.__table__.c
_LABEL = RiskLabel.__table__.c
_EVENT = [_LOG[c.key] for c in EVENT_COLUMNS]
_STAMP = select(RiskRevision.__table__.c.stamp).where(RiskRevision.__table__.c.id == REVISION_ROW)
_DECIDED = select(_LOG.seq).where(_LOG.channel == bindparam("channel"),
                                  _LOG.subject_ref.in_(bindparam("refs", expanding=True))).limit(1)
# PostgreSQL: one array parameter, so the text is the same for any batch size and psycopg prepares it once
# (an IN list of 30 was planned on every batch: 0.67 ms of planning for 0.14 ms of index scan).
_DECIDED_ANY = select(_LOG.seq).where(
    _LOG.channel == bindparam("channel"),
    _LOG.subject_ref == any_(bindparam("refs", type_=postgresql.ARRAY(String)))).limit(1)
_ENTITY_EVENTS = {kind: select(*_EVENT).where(_LOG[column.key].in_(bindparam("keys", expanding=True)),
                                              _LOG.occurred_at > bindparam("since"))
                  for kind, column in ENTITY_COLUMN.items()}
_EVENTS_AFTER = select(*_EVENT).where(_LOG.seq > bindparam("high")).order_by(_LOG.seq).limit(
    bindparam("limit"))
# Skipped positions are asked for on their own: in one `seq > :high OR seq IN (:gaps)` PostgreSQL walked the
# whole primary key and filtered (18 ms at 40,000 rows, growing with the log).
_EVENTS_AT = select(*_EVENT).where(_LOG.seq.in_(bindparam("gaps", expanding=True)))
_LABEL_COLUMNS = (_LABEL.seq, _LABEL.id, _LABEL.decision_id, _LABEL.fraud, _LABEL.arrived_at)
_LABELS_AFTER = select(*_LABEL_COLUMNS).where(_LABEL.seq > bindparam("high")).order_by(_LABEL.seq).limit(
    bindparam("limit"))
_LABELS_AT = select(*_LABEL_COLUMNS).where(_LABEL.seq.in_(bindparam("gaps", expanding=True)))


def revision_stamp(session: Session) -> str:
    return session.connection().execute(_STAMP).scalar() or ""


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
    return bool(insert_decisions(session, [values]))


def decided_subjects(session: Session, subjects: Collection[tuple[str, str]]) -> bool:
    """Whether any of these (channel, subject_ref) was decided before."""
    by_channel: dict[str, list[str]] = {}
    for channel, ref in subjects:
        by_channel.setdefault(channel, []).append(ref)
    connection = session.connection()
    statement = _DECIDED_ANY if connection.dialect.name == "postgresql" else _DECIDED
    return any(connection.execute(statement, {"channel": channel, "refs": refs}).first() is not None
               for channel, refs in by_channel.items())


def insert_decisions(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Log several decisions in one statement; returns {id: position} of those inserted (a subject decided
    meanwhile by another process is left out). One multi-row INSERT … RETURNING, written once per dialect,
    column set and row count, and executed on the driver with each value through its column type's own
    bind processor (`_RowWriter`)."""
    if not rows:
        return {}
    if any(row.get("feature_values") is not None for row in rows):
        vectors.register(session)  # in this transaction: no row is committed without its vocabulary
    connection = session.connection()
    writer = _writer(connection.dialect, tuple(rows[0]))
    sql, flat = writer.statement(len(rows)), writer.parameters(rows)
    return dict(connection.exec_driver_sql(sql, flat).all())  # type: ignore[arg-type]


class _RowWriter:
    """The decision log's INSERT for one dialect and column set, without SQLAlchemy's per-execution work.

    The statement is the one SQLAlchemy's insertmanyvalues would send (`VALUES (…), (…) ON CONFLICT
    (channel, subject_ref) DO NOTHING RETURNING id, seq`), and each value goes through the processor its
    column type gives the dialect (UTC datetimes as SQLite text, JSON through `db.engine.json_text`), so
    the rows are byte for byte what the ORM writes. What is skipped is the per-execution machinery around
    that: the compiled-cache lookup, parameter dictionaries re-keyed per row, and the statement's
    re-assembly per batch — a sixth of a decision's CPU in a profile of `atrium bench risk`."""

    __slots__ = ("_head", "_one", "_pairs", "_statements", "_tail", "keys")

    def __init__(self, dialect: Any, keys: tuple[str, ...]) -> None:
        table = RiskDecision.__table__
        quote = dialect.identifier_preparer
        self.keys = keys
        # (column, its type's bind processor or None) in statement order, made once
        self._pairs = [(k, table.c[k].type.dialect_impl(dialect).bind_processor(dialect)) for k in keys]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._one = "(" + ", ".join([mark] * len(keys)) + ")"
        # Identifiers from the table's metadata (an unknown key fails above), quoted by the dialect; every
        # value is a bound parameter.
        columns = ", ".join(quote.format_column(table.c[k]) for k in keys)
        self._head = f"INSERT INTO {quote.format_table(table)} ({columns}) VALUES "  # noqa: S608
        self._tail = " ON CONFLICT (channel, subject_ref) DO NOTHING RETURNING id, seq"
        self._statements: dict[int, str] = {}

    def statement(self, n: int) -> str:
        sql = self._statements.get(n)
        if sql is None:
            sql = self._statements[n] = self._head + ", ".join([self._one] * n) + self._tail
        return sql

    def parameters(self, rows: Sequence[dict[str, Any]]) -> tuple[Any, ...]:
        flat: list[Any] = []
        pairs = self._pairs
        for row in rows:
            if len(row) != len(pairs):
                raise ValueError("every decision row must have the same columns")
            flat.extend(row[k] if p is None else p(row[k]) for k, p in pairs)
        return tuple(flat)


_WRITERS: dict[tuple[str, tuple[str, ...]], _RowWriter] = {}


def _writer(dialect: Any, keys: tuple[str, ...]) -> _RowWriter:
    writer = _WRITERS.get((dialect.name, keys))
    if writer is None:
        writer = _WRITERS[(dialect.name, keys)] = _RowWriter(dialect, keys)
    return writer


def entities_events(session: Session, kind: str, keys: Collection[str],
                    since: datetime) -> Sequence[Row[Any]]:
    """Several entities' (of one kind) logged events since `since` (EVENT_COLUMNS): one query."""
    return session.connection().execute(_ENTITY_EVENTS[kind], {"keys": list(keys), "since": since}).all()


def events_after(session: Session, high: int, *, limit: int) -> Sequence[Row[Any]]:
    """Logged events past position `high`, in log order (at most `limit`)."""
    return session.connection().execute(_EVENTS_AFTER, {"high": high, "limit": limit}).all()


def events_at(session: Session, positions: Collection[int]) -> Sequence[Row[Any]]:
    """Logged events at `positions` (skipped ones, asked for again), in no particular order."""
    return _at(session, _EVENTS_AT, positions)


_AT_CHUNK = 1000  # positions per query (SQLite binds at most 32,766 parameters)


def _at(session: Session, statement: Any, positions: Collection[int]) -> list[Row[Any]]:
    if not positions:
        return []
    wanted, rows, connection = list(positions), [], session.connection()
    for start in range(0, len(wanted), _AT_CHUNK):
        rows += connection.execute(statement, {"gaps": wanted[start:start + _AT_CHUNK]}).all()
    return rows


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


def labels_after(session: Session, high: int, *, limit: int) -> Sequence[Row[Any]]:
    return session.connection().execute(_LABELS_AFTER, {"high": high, "limit": limit}).all()


def labels_at(session: Session, positions: Collection[int]) -> Sequence[Row[Any]]:
    return _at(session, _LABELS_AT, positions)


def label_positions_since(session: Session, low: int) -> list[int]:
    return list(session.scalars(select(RiskLabel.seq).where(RiskLabel.seq > low)))


def max_label_seq(session: Session) -> int:
    return session.scalar(select(func.max(RiskLabel.seq))) or 0


def count_labels(session: Session, since: datetime, *, fraud: bool | None = None) -> int:
    query = select(func.count()).select_from(RiskLabel).where(RiskLabel.arrived_at >= since)
    if fraud is not None:
        query = query.where(RiskLabel.fraud.is_(fraud))
    return session.scalar(query) or 0
