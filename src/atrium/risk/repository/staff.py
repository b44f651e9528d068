"""The staff side's SQL: cases and their actions, rules, lists and their audit, the model registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.risk.models import (
    RiskCase,
    RiskCaseAction,
    RiskListAudit,
    RiskListEntry,
    RiskModel,
    RiskRule,
)

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
