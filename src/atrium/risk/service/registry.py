"""The model registry: train challengers from the feature log, promote one to champion.

- `train(start, end, now)` learns from `labels.training_rows(start, end, labels_known_at=now)` — the
  vectors the engine logged at decision time, labelled only by labels that had arrived by `now` — and
  stores the model (bytes, metrics, feature names, window, parameters, version) as the challenger; the
  previous challenger is retired. Metrics are measured on a time-ordered holdout (the last fifth of the
  window) by a model trained on the rest; the stored model is then trained on the whole window.
- At most one champion and one challenger. The champion's score acts; the challenger is scored on every
  decision and recorded (`challenger_score`) so `compare_models` can show both on the same labelled
  traffic before anyone promotes. `promote` makes a model champion and retires the old one. Every change
  bumps the risk revision, so every process loads the new models on its next decision.
- `bootstrap_model` gives a fresh install a cold-start champion trained on a synthetic history generated
  by code (service/synthetic.py) — no binary ships. It is replaced by `risk.retrain` challengers trained on
  the bank's own labels once enough have arrived (and promoted by a person).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.domain import model as ml
from atrium.risk.errors import ModelNotFound, ModelNotPromotable, NotEnoughLabels
from atrium.risk.models import RiskDecision, RiskModel
from atrium.risk.schemas import ModelRead, TrainingSet
from atrium.risk.service import labels, setup, synthetic, views

log = get_logger("atrium.risk.registry")
HOLDOUT = 0.2
TRAIN_THREADS = 1  # a serving process's spare core stays with its requests (and OpenMP spins badly)


def _metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(set(y.tolist())) < 2:
        return {"auc": None, "ap": None}
    return {"auc": round(float(roc_auc_score(y, scores)), 4),
            "ap": round(float(average_precision_score(y, scores)), 4)}


def _fit(ts: TrainingSet, params: dict[str, Any] | None, window: dict[str, Any],
         created_at: float) -> ml.TrainedModel:
    """Holdout metrics from a model trained on the first 80 % (time order), then the model on it all."""
    cut = int(len(ts) * (1 - HOLDOUT))
    metrics: dict[str, Any] = {"rows": len(ts), "frauds": ts.frauds, "holdout_rows": len(ts) - cut}
    head_y = ts.y[:cut]
    if 0 < head_y.sum() < len(head_y) and 0 < ts.y[cut:].sum() < len(ts) - cut:
        probe = ml.train(ts.X[:cut], head_y, ts.feature_names, params, num_threads=TRAIN_THREADS)
        scores = probe.scorer().score_rows(ts.X[cut:], ts.feature_names)
        metrics.update({f"holdout_{k}": v for k, v in _metrics(ts.y[cut:], scores).items()})
    model = ml.train(ts.X, ts.y, ts.feature_names, params, num_threads=TRAIN_THREADS, window=window,
                     created_at=created_at)
    return model.with_metrics(metrics)


def _store(session: Session, model: ml.TrainedModel, *, role: str, source: str, start: datetime,
           end: datetime, known_at: datetime) -> RiskModel:
    meta = model.metadata
    same = repository.model_by_version(session, meta.version)
    if same is not None:  # the same rows and parameters at the same time: the very same model
        return same
    now = clock.now()
    old = repository.model_in_role(session, role)
    if old is not None:
        old.role, old.retired_at = "retired", now
    row = RiskModel(id=new_id("rmdl"), version=meta.version, role=role, source=source,
                    metrics=dict(meta.metrics), feature_names=list(meta.feature_names),
                    params=dict(meta.params), window_start=start,
                    window_end=end, labels_known_at=known_at, rows=meta.rows, frauds=meta.frauds,
                    blob=model.to_bytes(), created_at=now, promoted_at=now if role == "champion" else None)
    session.add(row)
    session.flush()
    setup.changed(session)
    return row


def train(session: Session, start: datetime, end: datetime, now: datetime | None = None, *,
          params: dict[str, Any] | None = None, min_rows: int = 10, min_frauds: int = 1) -> ModelRead:
    """Train a challenger on the labelled feature log of [start, end) as known at `now`."""
    now = now or clock.now()
    ts = labels.training_rows(session, start, end, labels_known_at=now)
    if len(ts) < min_rows or ts.frauds < min_frauds or ts.frauds == len(ts):
        raise NotEnoughLabels(f"{len(ts)} labelled decisions with {ts.frauds} frauds in the window; "
                              f"at least {min_rows} with {min_frauds} frauds (and some genuine) are needed")
    window = {"start": start.isoformat(), "end": end.isoformat(), "labels_known_at": now.isoformat()}
    model = _fit(ts, params, window, now.timestamp())
    row = _store(session, model, role="challenger", source="trained", start=start, end=end, known_at=now)
    log.info("risk_model_trained", version=row.version, rows=row.rows, frauds=row.frauds,
             metrics=row.metrics)
    return views.model_read(row)


def promote(session: Session, model_id: str, staff_id: str | None = None) -> ModelRead:
    """Make `model_id` the champion; the old champion is retired."""
    row = repository.get_model(session, model_id, lock=True)
    if row is None:
        raise ModelNotFound(f"no model {model_id}")
    if row.role == "champion":
        raise ModelNotPromotable(f"model {row.version} is already the champion")
    setup.changed(session)  # first: serialises concurrent promotions on the revision row
    now = clock.now()
    old = repository.model_in_role(session, "champion")
    if old is not None:
        old.role, old.retired_at = "retired", now
    row.role, row.promoted_at, row.retired_at = "champion", now, None
    session.flush()
    log.info("risk_model_promoted", version=row.version, staff_id=staff_id,
             previous=old.version if old is not None else None)
    return views.model_read(row)


def get_model(session: Session, model_id: str) -> ModelRead:
    row = repository.get_model(session, model_id)
    if row is None:
        raise ModelNotFound(f"no model {model_id}")
    return views.model_read(row)


def list_models(session: Session, *, limit: int = 50) -> list[ModelRead]:
    return [views.model_read(row) for row in repository.models(session, limit=limit)]


def compare_models(session: Session, since: datetime, until: datetime,
                   as_of: datetime | None = None) -> dict[str, Any]:
    """Champion vs challenger on the same decisions in [since, until), judged by the labels arrived by
    `as_of` (unlabelled decisions past the label delay count as genuine, as in training)."""
    as_of = as_of or clock.now()
    rows: list[RiskDecision] = [r for r in repository.decisions_between(session, since, min(until, as_of))
                                if r.model_score is not None and r.challenger_score is not None]
    truth = {lab.decision_id: lab.fraud
             for lab in repository.labels_for(session, [r.id for r in rows], known_at=as_of)}
    settled = as_of - labels.label_delay()
    kept = [r for r in rows if r.id in truth or r.occurred_at <= settled]
    y = np.asarray([int(truth.get(r.id, False)) for r in kept])
    return {
        "decisions": len(kept), "frauds": int(y.sum()) if len(y) else 0,
        "champion": _metrics(y, np.asarray([r.model_score for r in kept])) if len(kept) else {},
        "challenger": _metrics(y, np.asarray([r.challenger_score for r in kept])) if len(kept) else {},
        "champion_versions": sorted({r.model_version for r in kept if r.model_version}),
        "challenger_versions": sorted({r.challenger_version for r in kept if r.challenger_version}),
    }


def bootstrap_model(session: Session, *, seed: int = 7, customers: int = synthetic.CUSTOMERS,
                    days: int = synthetic.DAYS) -> ModelRead | None:
    """A cold-start champion for a fresh install (None if any model exists already). See the module
    docstring and service/synthetic.py."""
    if repository.models(session, limit=1):
        return None
    history = synthetic.history(seed=seed, customers=customers, days=days)
    ts = history.training_set()
    start = datetime.fromtimestamp(history.start, UTC)
    end = start + timedelta(days=history.days)
    window = {"source": "synthetic", "seed": seed, "customers": history.customers, "days": history.days}
    model = _fit(ts, synthetic.PARAMS, window, clock.now().timestamp())
    row = _store(session, model, role="champion", source="bootstrap", start=start, end=end, known_at=end)
    log.info("risk_model_bootstrapped", version=row.version, rows=row.rows, frauds=row.frauds,
             metrics=row.metrics)
    return views.model_read(row)
