"""All of the catalogue's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.catalog.models import (
    CatalogHistory,
    CatalogProposal,
    CatalogRevision,
    CatalogService,
    CatalogTabLayout,
    CatalogUsage,
)
from atrium.kit import clock
from atrium.kit.ids import new_id

REVISION_ROW = 1

# --- revision ------------------------------------------------------------------------------------------


def revision_stamp(session: Session) -> str:
    """The current catalogue stamp ("" before anything was ever written)."""
    return session.scalar(select(CatalogRevision.stamp).where(CatalogRevision.id == REVISION_ROW)) or ""


def bump_revision(session: Session) -> str:
    """A fresh stamp for the catalogue. The UPDATE also serialises concurrent writers on the one row."""
    stamp = new_id("crev")
    done = session.execute(
        update(CatalogRevision).where(CatalogRevision.id == REVISION_ROW)
        .values(stamp=stamp, changed_at=clock.now())
    ).rowcount
    if not done:
        try:
            with session.begin_nested():
                session.add(CatalogRevision(id=REVISION_ROW, stamp=stamp))
        except IntegrityError:  # another first writer created the row meanwhile
            session.execute(update(CatalogRevision).where(CatalogRevision.id == REVISION_ROW)
                            .values(stamp=stamp, changed_at=clock.now()))
    session.flush()
    return stamp


# --- services and history ------------------------------------------------------------------------------


def all_services(session: Session) -> Sequence[CatalogService]:
    return session.scalars(select(CatalogService).order_by(CatalogService.line, CatalogService.key)).all()


def get_service(session: Session, key: str, *, lock: bool = False) -> CatalogService | None:
    if lock:
        return session.scalar(select(CatalogService).where(CatalogService.key == key).with_for_update())
    return session.get(CatalogService, key)


def list_services(
    session: Session, *, line: str | None = None, enabled: bool | None = None
) -> Sequence[CatalogService]:
    query = select(CatalogService)
    if line is not None:
        query = query.where(CatalogService.line == line)
    if enabled is not None:
        query = query.where(CatalogService.enabled.is_(enabled))
    return session.scalars(query.order_by(CatalogService.line, CatalogService.key)).all()


def add_history(session: Session, row: CatalogService, *, change: str, proposal_id: str | None,
                proposed_by: str, approved_by: str, note: str = "") -> CatalogHistory:
    entry = CatalogHistory(
        id=new_id("chis"), service_key=row.key, version=row.version, change=change,
        definition=dict(row.definition), enabled=row.enabled, starts_at=row.starts_at, ends_at=row.ends_at,
        proposal_id=proposal_id, proposed_by=proposed_by, approved_by=approved_by, source=row.source,
        note=note, applied_at=row.updated_at,
    )
    session.add(entry)
    return entry


def history(session: Session, key: str) -> Sequence[CatalogHistory]:
    return session.scalars(
        select(CatalogHistory).where(CatalogHistory.service_key == key)
        .order_by(CatalogHistory.version.desc())
    ).all()


def recent_history(session: Session, *, limit: int) -> Sequence[CatalogHistory]:
    return session.scalars(
        select(CatalogHistory)
        .order_by(CatalogHistory.applied_at.desc(), CatalogHistory.id.desc()).limit(limit)
    ).all()


# --- proposals -----------------------------------------------------------------------------------------


def get_proposal(session: Session, proposal_id: str, *, lock: bool = False) -> CatalogProposal | None:
    if lock:
        return session.scalar(
            select(CatalogProposal).where(CatalogProposal.id == proposal_id).with_for_update()
        )
    return session.get(CatalogProposal, proposal_id)


def proposals(session: Session, *, status: str | None = None, service_key: str | None = None,
              limit: int = 200) -> Sequence[CatalogProposal]:
    query = select(CatalogProposal)
    if status is not None:
        query = query.where(CatalogProposal.status == status)
    if service_key is not None:
        query = query.where(CatalogProposal.service_key == service_key)
    return session.scalars(
        query.order_by(CatalogProposal.proposed_at.desc(), CatalogProposal.id.desc()).limit(limit)
    ).all()


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(CatalogProposal.status == "pending")) or 0


def pending_create_for(session: Session, key: str) -> CatalogProposal | None:
    return session.scalar(
        select(CatalogProposal).where(
            CatalogProposal.service_key == key, CatalogProposal.kind == "create",
            CatalogProposal.status == "pending",
        ).limit(1)
    )


# --- usage ---------------------------------------------------------------------------------------------


def usage(session: Session, customer_id: str, identity_kind: str) -> dict[str, int]:
    rows = session.execute(
        select(CatalogUsage.service_key, CatalogUsage.count).where(
            CatalogUsage.customer_id == customer_id, CatalogUsage.identity_kind == identity_kind
        )
    )
    return {key: count for key, count in rows}


def bump_usage(session: Session, customer_id: str, identity_kind: str, key: str, at: datetime) -> None:
    """Count one use: an atomic increment of the row, created on first use. Two first uses racing: the
    loser's insert fails on the primary key inside a savepoint, and it increments the winner's row."""
    where = (CatalogUsage.customer_id == customer_id, CatalogUsage.identity_kind == identity_kind,
             CatalogUsage.service_key == key)
    increment = update(CatalogUsage).where(*where).values(count=CatalogUsage.count + 1, last_used_at=at)
    if session.execute(increment).rowcount:
        return
    try:
        with session.begin_nested():
            session.add(CatalogUsage(customer_id=customer_id, identity_kind=identity_kind, service_key=key,
                                     count=1, last_used_at=at))
    except IntegrityError:
        session.execute(increment)


# --- tab layouts ---------------------------------------------------------------------------------------


def tab_layouts(session: Session) -> Sequence[CatalogTabLayout]:
    return session.scalars(
        select(CatalogTabLayout).order_by(CatalogTabLayout.priority.desc(), CatalogTabLayout.key)
    ).all()


def get_tab_layout(session: Session, key: str) -> CatalogTabLayout | None:
    return session.get(CatalogTabLayout, key)
