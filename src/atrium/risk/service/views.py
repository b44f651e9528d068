"""Rows → the read shapes of `atrium.risk.schemas` (one place, so every caller sees the same fields)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from atrium.kit import clock
from atrium.logs import get_logger
from atrium.risk.domain.reasons import LOCALES, InvalidReason, Reason, analyst_text, customer_text
from atrium.risk.models import (
    RiskCase,
    RiskCaseAction,
    RiskDecision,
    RiskLabel,
    RiskListAudit,
    RiskListEntry,
    RiskModel,
    RiskRule,
)
from atrium.risk.repository import ENTITY_COLUMN, features_of
from atrium.risk.schemas import (
    CaseActionRead,
    CaseRead,
    DecisionDetail,
    DecisionRead,
    LabelRead,
    ListAuditRead,
    ListEntryRead,
    ModelRead,
    ReasonRead,
    RuleRead,
)

log = get_logger("atrium.risk.views")


def reason_read(data: dict[str, Any], channel: str | None = None) -> ReasonRead:
    try:
        reason = Reason.from_dict(data)
    except (InvalidReason, KeyError, TypeError):  # a log row written by an older release
        log.warning("risk_reason_unreadable", code=str(data.get("code"))[:100])
        reason = Reason("rule.unknown")
    return ReasonRead(
        code=reason.code, params=dict(reason.params),
        text={lc: customer_text(reason, lc, channel=channel) for lc in LOCALES},
        analyst={lc: analyst_text(reason, lc) for lc in LOCALES},
    )


def decision_read(row: RiskDecision, *, case_id: str | None = None, replayed: bool = False) -> DecisionRead:
    return _read(partial(getattr, row), case_id=case_id, replayed=replayed)


def logged_read(values: Mapping[str, Any], *, case_id: str | None = None) -> DecisionRead:
    """`decision_read` of a decision from the values it was just logged with (no ORM instance: the group
    commit's batches build thousands of these a second)."""
    return _read(values.__getitem__, case_id=case_id, replayed=False)


def _read(get: Callable[[str], Any], *, case_id: str | None, replayed: bool) -> DecisionRead:
    channel = get("channel")
    return DecisionRead(
        id=get("id"), channel=channel, subject_ref=get("subject_ref"), outcome=get("outcome"),
        score=get("score"), reasons=[reason_read(r, channel) for r in get("reasons")],
        model_version=get("model_version"), fallback=get("fallback"), case_id=case_id,
        occurred_at=get("occurred_at"), created_at=get("created_at"), latency_us=get("latency_us"),
        replayed=replayed,
    )


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _finite(features: dict[str, Any]) -> dict[str, float]:
    # JSON has no NaN or infinity: the read shape leaves out the features without a finite value.
    return {k: float(v) for k, v in features.items() if isinstance(v, int | float) and math.isfinite(v)}


def decision_detail(row: RiskDecision, *, case_id: str | None, label: bool | None) -> DecisionDetail:
    base = decision_read(row, case_id=case_id)
    entities = {kind: value for kind, column in ENTITY_COLUMN.items()
                if (value := getattr(row, column.key)) is not None}
    return DecisionDetail(
        **base.model_dump(), amount_minor=row.amount_minor, currency=row.currency,
        customer_id=row.customer_id, displays=dict(row.displays or {}), entities=entities,
        features=_finite(features_of(row)),
        rule_hits=list(row.rule_hits), shadow_hits=list(row.shadow_hits), list_hits=list(row.list_hits),
        rule_errors=list(row.rule_errors), model_score=row.model_score, challenger_score=row.challenger_score,
        challenger_version=row.challenger_version, label=label,
    )


def label_read(row: RiskLabel) -> LabelRead:
    return LabelRead(id=row.id, decision_id=row.decision_id, fraud=row.fraud, source=row.source,
                     staff_id=row.staff_id, arrived_at=row.arrived_at)


def latest_label(labels: Sequence[RiskLabel]) -> bool | None:
    return labels[-1].fraud if labels else None


def case_read(row: RiskCase, decision: RiskDecision) -> CaseRead:
    return CaseRead(
        id=row.id, decision_id=row.decision_id, customer_id=row.customer_id, channel=row.channel,  # type: ignore[arg-type]
        outcome=row.outcome, origin=row.origin, held=row.held, status=row.status,  # type: ignore[arg-type]
        assignee=row.assignee, resolution=row.resolution, note=row.note, opened_at=row.opened_at,
        updated_at=row.updated_at, resolved_at=row.resolved_at, resolved_by=row.resolved_by,
        amount_minor=decision.amount_minor, currency=decision.currency, score=decision.score,
    )


def action_read(row: RiskCaseAction) -> CaseActionRead:
    return CaseActionRead(id=row.id, action=row.action, staff_id=row.staff_id, from_status=row.from_status,
                          to_status=row.to_status, note=row.note, detail=dict(row.detail or {}), at=row.at)


def rule_read(row: RiskRule) -> RuleRead:
    return RuleRead(
        id=row.id, key=row.key, version=row.version, expression=row.expression, action=row.action,  # type: ignore[arg-type]
        weight=row.weight, reason=row.reason, mode=row.mode, status=row.status, note=row.note,  # type: ignore[arg-type]
        author=row.author, approver=row.approver, decision_note=row.decision_note, created_at=row.created_at,
        decided_at=row.decided_at,
    )


def entry_read(row: RiskListEntry, now: datetime | None = None) -> ListEntryRead:
    now = now or clock.now()
    active = row.removed_at is None and (row.expires_at is None or now < row.expires_at)
    return ListEntryRead(
        id=row.id, list_kind=row.list_kind, subject_kind=row.subject_kind, display=row.display,  # type: ignore[arg-type]
        reason=row.reason, expires_at=row.expires_at, created_by=row.created_by, created_at=row.created_at,
        removed_at=row.removed_at, removed_by=row.removed_by, active=active,
    )


def audit_read(row: RiskListAudit) -> ListAuditRead:
    return ListAuditRead(id=row.id, entry_id=row.entry_id, action=row.action, list_kind=row.list_kind,  # type: ignore[arg-type]
                         subject_kind=row.subject_kind, display=row.display, staff_id=row.staff_id,  # type: ignore[arg-type]
                         reason=row.reason, at=row.at)


def model_read(row: RiskModel) -> ModelRead:
    return ModelRead(
        id=row.id, version=row.version, role=row.role, source=row.source, metrics=dict(row.metrics or {}),  # type: ignore[arg-type]
        feature_names=list(row.feature_names), params=dict(row.params or {}), window_start=row.window_start,
        window_end=row.window_end, labels_known_at=row.labels_known_at, rows=row.rows, frauds=row.frauds,
        created_at=row.created_at, promoted_at=row.promoted_at, retired_at=row.retired_at,
    )
