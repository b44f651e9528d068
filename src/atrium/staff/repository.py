"""All SQL of the staff domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.staff.models import AuditRecord


def add(session: Session, record: AuditRecord) -> AuditRecord:
    session.add(record)
    session.flush()
    return record


def page(
    session: Session,
    *,
    customer_id: str | None,
    staff_id: str | None,
    action: str | None,
    before_id: str | None,
    limit: int,
) -> list[AuditRecord]:
    """Newest first; ids are time-ordered, so the id is the keyset."""
    stmt = select(AuditRecord)
    if customer_id is not None:
        stmt = stmt.where(AuditRecord.customer_id == customer_id)
    if staff_id is not None:
        stmt = stmt.where(AuditRecord.staff_id == staff_id)
    if action is not None:
        stmt = stmt.where(AuditRecord.action == action)
    if before_id is not None:
        stmt = stmt.where(AuditRecord.id < before_id)
    return list(session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(limit)))
