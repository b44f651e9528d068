"""Labels: what a decision turned out to be, known from the moment the label arrived.

- `label` appends a label with `arrived_at = now` (never back-dated): the feature state and training sets
  see it from then on, not before. The latest arrived label of a decision is its truth (an analyst's
  correction, a chargeback after a "genuine" close).
- `training_rows(start, end, labels_known_at)` is the training set a model trained at `labels_known_at`
  may use: the feature vectors logged at decision time for decisions in [start, end) that happened by
  `labels_known_at`, labelled by the labels that had arrived by then. A decision without a label counts
  as genuine once it is older than the label delay (`risk.label_delay_days`) — as a bank treats activity
  nobody reported: customers and card schemes report fraud, nobody confirms the genuine majority. Younger
  unlabelled decisions are left out (their truth is not known yet). Fallback decisions (the engine was
  unavailable) logged no features and are left out too.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.kit import clock
from atrium.risk import repository
from atrium.risk.domain.features import FEATURE_NAMES
from atrium.risk.errors import DecisionNotFound, InvalidLabel
from atrium.risk.schemas import LabelRead, TrainingSet
from atrium.risk.service import state, views

SOURCES = frozenset({"analyst", "chargeback", "customer", "release", "close", "monitor", "import"})


def label(session: Session, decision_id: str, fraud: bool, source: str,
          staff_id: str | None = None) -> LabelRead:
    """Record that `decision_id` was fraud (True) or genuine (False), arriving now."""
    if source not in SOURCES:
        raise InvalidLabel(f"label source {source!r} must be one of {', '.join(sorted(SOURCES))}")
    if repository.get_decision(session, decision_id) is None:
        raise DecisionNotFound(f"no risk decision {decision_id}")
    row = repository.add_label(session, decision_id, bool(fraud), source, staff_id, clock.now())
    state.written(session, row.id)
    return views.label_read(row)


def labels_of(session: Session, decision_id: str) -> list[LabelRead]:
    return [views.label_read(row) for row in repository.labels_of(session, decision_id)]


def label_delay() -> timedelta:
    return timedelta(days=get_settings().risk.label_delay_days)


def training_rows(session: Session, start: datetime, end: datetime, labels_known_at: datetime,
                  feature_names: tuple[str, ...] = FEATURE_NAMES) -> TrainingSet:
    """The labelled feature log of [start, end) as known at `labels_known_at` (see the module docstring)."""
    until = min(end, labels_known_at)
    rows = [r for r in repository.decisions_between(session, start, until) if repository.has_features(r)]
    truth: dict[str, bool] = {}
    for lab in repository.labels_for(session, [r.id for r in rows], known_at=labels_known_at):
        truth[lab.decision_id] = lab.fraud  # arrival order: the latest arrived wins
    settled_before = labels_known_at - label_delay()
    X: list[list[float]] = []
    y: list[int] = []
    ids: list[str] = []
    for row in rows:
        known = truth.get(row.id)
        if known is None:
            if row.occurred_at > settled_before:
                continue  # too recent to call genuine
            known = False
        features = repository.logged_features(row)
        X.append([features.get(name, math.nan) for name in feature_names])
        y.append(int(known))
        ids.append(row.id)
    matrix = np.asarray(X, dtype=np.float64).reshape(len(X), len(feature_names))
    return TrainingSet(feature_names=tuple(feature_names), X=matrix, y=np.asarray(y, dtype=np.int64),
                       decision_ids=tuple(ids))
