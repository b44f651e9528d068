"""All SQL of the staff domain."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from atrium.staff.models import AuditRecord


def add(session: Session, record: AuditRecord) -> AuditRecord:
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class Filters:
    customer_id: str | None = None
    staff_id: str | None = None
    action: str | None = None
    session_ref: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _filtered(f: Filters) -> Select[tuple[AuditRecord]]:
    stmt = select(AuditRecord)
    if f.customer_id is not None:
        stmt = stmt.where(AuditRecord.customer_id == f.customer_id)
    if f.staff_id is not None:
        stmt = stmt.where(AuditRecord.staff_id == f.staff_id)
    if f.action is not None:
        stmt = stmt.where(AuditRecord.action == f.action)
    if f.session_ref is not None:
        stmt = stmt.where(AuditRecord.session_ref == f.session_ref)
    if f.since is not None:
        stmt = stmt.where(AuditRecord.occurred_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditRecord.occurred_at < f.until)
    return stmt


def page(session: Session, f: Filters, *, before_id: str | None, limit: int) -> list[AuditRecord]:
    """Newest first; ids are time-ordered, so the id is the keyset."""
    stmt = _filtered(f)
    if before_id is not None:
        stmt = stmt.where(AuditRecord.id < before_id)
    return list(session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(limit)))


def count(session: Session, f: Filters) -> int:
    return session.scalar(select(func.count()).select_from(_filtered(f).subquery())) or 0


def stream(session: Session, f: Filters, *, batch: int = 1000) -> Iterator[AuditRecord]:
    """Every matching record, newest first, read in keyset batches (an export never holds them all)."""
    before_id: str | None = None
    while True:
        rows = page(session, f, before_id=before_id, limit=batch)
        yield from rows
        if len(rows) < batch:
            return
        before_id = rows[-1].id


def recent_times(session: Session, *, staff_id: str, action: str, since: datetime) -> list[datetime]:
    """When the staff member did `action` after `since`, oldest first."""
    stmt = (
        select(AuditRecord.occurred_at)
        .where(AuditRecord.staff_id == staff_id, AuditRecord.action == action)
        .where(AuditRecord.occurred_at > since)
        .order_by(AuditRecord.occurred_at)
    )
    return list(session.scalars(stmt))


def serialise_staff(session: Session, staff_id: str) -> None:
    """Make one staff member's concurrent reveals take turns until this transaction ends, so the reveal
    limit counts each of them. PostgreSQL: a transaction-scoped advisory lock on the staff id; SQLite
    write transactions already run one at a time (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"staff-reveal:{staff_id}".encode()).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
