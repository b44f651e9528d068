"""The model registry's promotion requests (maker-checker): who asked for a model to become the champion,
and who decided. The models themselves are in `staff`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from atrium.kit.ids import new_id
from atrium.risk.models import RiskModel, RiskModelPromotion


def pending_promotion(session: Session, model_id: str) -> RiskModelPromotion | None:
    """The request of `model_id` waiting for a decision (at most one: a partial unique index)."""
    return session.scalar(select(RiskModelPromotion).where(
        RiskModelPromotion.model_id == model_id, RiskModelPromotion.status == "pending"))


def add_promotion(session: Session, *, model_id: str, reason: str, requested_by: str,
                  requested_at: datetime) -> RiskModelPromotion:
    row = RiskModelPromotion(id=new_id("rmpr"), model_id=model_id, status="pending", reason=reason,
                             requested_by=requested_by, requested_at=requested_at)
    session.add(row)
    session.flush()
    return row


def get_promotion(session: Session, promotion_id: str, *, lock: bool = False) -> RiskModelPromotion | None:
    """A request by id; `lock`: FOR UPDATE, so two people deciding it at once take turns."""
    if not lock:
        return session.get(RiskModelPromotion, promotion_id)
    return session.scalar(
        select(RiskModelPromotion).where(RiskModelPromotion.id == promotion_id).with_for_update())


def promotions(session: Session, *, status: str | None, limit: int) -> Sequence[Row[Any]]:
    """(request, model version) pairs, newest first."""
    query = select(RiskModelPromotion, RiskModel.version).join(
        RiskModel, RiskModel.id == RiskModelPromotion.model_id)
    if status is not None:
        query = query.where(RiskModelPromotion.status == status)
    query = query.order_by(RiskModelPromotion.requested_at.desc(), RiskModelPromotion.id.desc()).limit(limit)
    return session.execute(query).all()
