"""The model registry: train challengers from the feature log, promote one to champion.

- `train(start, end, now)` learns from `labels.training_rows(start, end, labels_known_at=now)` — the
  vectors the engine logged at decision time, labelled only by labels that had arrived by `now` — and
  stores the model (bytes, metrics, feature names, window, parameters, version) as the challenger; the
  previous challenger is retired. Metrics are measured on a time-ordered holdout (the last fifth of the
  window) by a model trained on the rest; the stored model is then trained on the whole window.
- Card Precision@100 on the holdout, beside AUC and AP (`holdout_cp100`): the feature log keeps no
  card for most events (app payments and sign-ins have a customer, not a card), so the holdout's "cards"
  are each decision's card reference where it has one, else its customer (else its account, else the
  decision itself); its days are the bank's local days (`risk.utc_offset_h`). Per day, the 100 references
  scoring highest (a reference scores its highest event), precision = fraudulent ones / 100, references
  caught on an earlier day dropped — the handbook's metric (`benchmark.metrics.card_precision_top_k`) on
  that analogue. A small bank's holdout has fewer than 100 references a day, so it reads low: compare
  models with it, not against the handbook's figures.
- At most one champion and one challenger. The champion's score acts; the challenger is scored on every
  decision and recorded (`challenger_score`) so `compare_models` can show both on the same labelled
  traffic before anyone promotes. Every change bumps the risk revision, so every process loads the new
  models on its next decision.
- Promotion is maker-checker per person: `request_promotion` (one staff member, with a reason) →
  `approve_promotion` or `reject_promotion` by a *different* person (`PromotionSelfApproval`, 403,
  otherwise; the database refuses it too). Approval runs `promote` — the champion is replaced and the old
  one retired. At most one request per model waits; a challenger retired by a newer training run takes its
  waiting request with it (`withdrawn`). The request rows are the audit trail: who asked, why, who
  decided, when. Which roles may ask or decide is the staff console's rule (`atrium.staff.service.risk`).
- `bootstrap_model` gives a fresh install a cold-start champion trained on a synthetic history generated
  by code (service/synthetic.py) — no binary ships. It is replaced by `risk.retrain` challengers trained on
  the bank's own labels once enough have arrived (and promoted by a person).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.benchmark.metrics import card_precision_top_k
from atrium.risk.domain import model as ml
from atrium.risk.errors import (
    ModelNotFound,
    ModelNotPromotable,
    NotEnoughLabels,
    PromotionNotFound,
    PromotionNotPending,
    PromotionPending,
    PromotionReasonMissing,
    PromotionSelfApproval,
)
from atrium.risk.models import RiskDecision, RiskModel, RiskModelPromotion
from atrium.risk.schemas import ModelRead, PromotionRead, TrainingSet
from atrium.risk.service import labels, setup, synthetic, views

log = get_logger("atrium.risk.registry")
HOLDOUT = 0.2
TRAIN_THREADS = 1  # a serving process's spare core stays with its requests (and OpenMP spins badly)
CP_K = 100
DAY_S = 86_400
REASON_MAX = 2_000


def _metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(set(y.tolist())) < 2:
        return {"auc": None, "ap": None}
    return {"auc": round(float(roc_auc_score(y, scores)), 4),
            "ap": round(float(average_precision_score(y, scores)), 4)}


def _cp100(day: np.ndarray, ref: list[str], y: np.ndarray, scores: np.ndarray) -> float | None:
    """Card Precision@100 of `scores` over rows with a local `day` and a card-or-customer `ref` each (see
    the module docstring)."""
    if not len(y):
        return None
    codes = np.unique(np.asarray(ref), return_inverse=True)[1]
    value, _ = card_precision_top_k(day, codes, y, scores, k=CP_K)
    return round(value, 4)


def _local_day(at: float) -> int:
    return int((at + get_settings().risk.utc_offset_h * 3600) // DAY_S)


def _ref(card: str | None, customer: str | None, account: str | None, decision_id: str) -> str:
    return card or customer or account or decision_id


def _holdout_entities(session: Session, decision_ids: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """The local day and the card-or-customer reference of each decision, in the given order."""
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(decision_ids), 500):
        for row in session.execute(
            select(RiskDecision.id, RiskDecision.occurred_at, RiskDecision.card, RiskDecision.customer_id,
                   RiskDecision.account).where(RiskDecision.id.in_(decision_ids[i:i + 500]))
        ):
            found[row.id] = (_local_day(row.occurred_at.timestamp()),
                             _ref(row.card, row.customer_id, row.account, row.id))
    return (np.asarray([found[i][0] for i in decision_ids], dtype=np.int64),
            [found[i][1] for i in decision_ids])


def _fit(ts: TrainingSet, params: dict[str, Any] | None, window: dict[str, Any], created_at: float,
         entities: Callable[[tuple[str, ...]], tuple[np.ndarray, list[str]]]) -> ml.TrainedModel:
    """Holdout metrics from a model trained on the first 80 % (time order), then the model on it all.
    `entities` gives the holdout rows' days and card-or-customer references (for CP@100)."""
    cut = int(len(ts) * (1 - HOLDOUT))
    metrics: dict[str, Any] = {"rows": len(ts), "frauds": ts.frauds, "holdout_rows": len(ts) - cut}
    head_y = ts.y[:cut]
    if 0 < head_y.sum() < len(head_y) and 0 < ts.y[cut:].sum() < len(ts) - cut:
        probe = ml.train(ts.X[:cut], head_y, ts.feature_names, params, num_threads=TRAIN_THREADS)
        scores = probe.scorer().score_rows(ts.X[cut:], ts.feature_names)
        metrics.update({f"holdout_{k}": v for k, v in _metrics(ts.y[cut:], scores).items()})
        day, ref = entities(ts.decision_ids[cut:])
        metrics["holdout_cp100"] = _cp100(day, ref, ts.y[cut:], scores)
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
        _withdraw(session, old.id, f"model {old.version} was retired by a newer {role}")
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
    model = _fit(ts, params, window, now.timestamp(), lambda ids: _holdout_entities(session, ids))
    row = _store(session, model, role="challenger", source="trained", start=start, end=end, known_at=now)
    log.info("risk_model_trained", version=row.version, rows=row.rows, frauds=row.frauds,
             metrics=row.metrics)
    return views.model_read(row)


def promote(session: Session, model_id: str, staff_id: str | None = None) -> ModelRead:
    """Make `model_id` the champion; the old champion is retired. The act an approved promotion request
    performs (`approve_promotion`); the console never calls it directly."""
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


# --- promotion requests (maker-checker) -------------------------------------------------------------------


def _promotion_read(row: RiskModelPromotion, version: str) -> PromotionRead:
    return PromotionRead(
        id=row.id, model_id=row.model_id, model_version=version, status=row.status, reason=row.reason,  # type: ignore[arg-type]
        requested_by=row.requested_by, requested_at=row.requested_at, decided_by=row.decided_by,
        decided_at=row.decided_at, decision_note=row.decision_note,
    )


def _withdraw(session: Session, model_id: str, note: str) -> None:
    """A model that left its role takes its waiting promotion request with it: nobody approves a stale
    model by accident."""
    pending = repository.pending_promotion(session, model_id)
    if pending is not None:
        pending.status, pending.decided_at, pending.decision_note = "withdrawn", clock.now(), note


def request_promotion(session: Session, model_id: str, staff_id: str, reason: str) -> PromotionRead:
    """Ask for `model_id` (a challenger) to become the champion, saying why; a second person decides."""
    text = " ".join(reason.split())[:REASON_MAX]
    if not text:
        raise PromotionReasonMissing("say why this model should become the champion", field="reason")
    row = repository.get_model(session, model_id, lock=True)  # serialises two requests for one model
    if row is None:
        raise ModelNotFound(f"no model {model_id}")
    if row.role != "challenger":
        raise ModelNotPromotable(f"model {row.version} is {row.role}: only a challenger can be promoted")
    if repository.pending_promotion(session, model_id) is not None:
        raise PromotionPending(f"a promotion of model {row.version} is already waiting for approval")
    request = repository.add_promotion(session, model_id=model_id, reason=text, requested_by=staff_id,
                                       requested_at=clock.now())
    log.info("risk_model_promotion_requested", version=row.version, staff_id=staff_id)
    return _promotion_read(request, row.version)


def _decidable(session: Session, promotion_id: str, staff_id: str) -> RiskModelPromotion:
    request = repository.get_promotion(session, promotion_id, lock=True)
    if request is None:
        raise PromotionNotFound(f"no promotion request {promotion_id}")
    if request.status != "pending":
        raise PromotionNotPending(f"promotion request {promotion_id} is {request.status}")
    if request.requested_by == staff_id:
        raise PromotionSelfApproval("whoever asked for a promotion cannot decide it")
    return request


def approve_promotion(session: Session, promotion_id: str, staff_id: str, note: str = "") -> PromotionRead:
    """A second person approves the request: its model becomes the champion (`promote`)."""
    request = _decidable(session, promotion_id, staff_id)
    model = promote(session, request.model_id, staff_id)
    request.status, request.decided_by, request.decided_at = "approved", staff_id, clock.now()
    request.decision_note = " ".join(note.split())[:REASON_MAX]
    session.flush()
    log.info("risk_model_promotion_approved", version=model.version, requested_by=request.requested_by,
             staff_id=staff_id)
    return _promotion_read(request, model.version)


def reject_promotion(session: Session, promotion_id: str, staff_id: str, note: str) -> PromotionRead:
    """A second person turns the request down, saying why; the model stays a challenger."""
    request = _decidable(session, promotion_id, staff_id)
    text = " ".join(note.split())[:REASON_MAX]
    if not text:
        raise PromotionReasonMissing("say why the promotion is rejected", field="note")
    request.status, request.decided_by, request.decided_at = "rejected", staff_id, clock.now()
    request.decision_note = text
    session.flush()
    version = _version_of(session, request.model_id)
    log.info("risk_model_promotion_rejected", version=version, requested_by=request.requested_by,
             staff_id=staff_id)
    return _promotion_read(request, version)


def _version_of(session: Session, model_id: str) -> str:
    row = repository.get_model(session, model_id)
    return row.version if row is not None else model_id


def list_promotions(session: Session, *, status: str | None = None, limit: int = 50) -> list[PromotionRead]:
    """Promotion requests, newest first (the registry page's audit trail and the checker's queue)."""
    return [_promotion_read(row, version)
            for row, version in repository.promotions(session, status=status, limit=limit)]


def get_promotion(session: Session, promotion_id: str) -> PromotionRead:
    row = repository.get_promotion(session, promotion_id)
    if row is None:
        raise PromotionNotFound(f"no promotion request {promotion_id}")
    return _promotion_read(row, _version_of(session, row.model_id))


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
    by_id = {e.event_id: (_local_day(e.at), _ref(e.card, e.customer, e.account, e.event_id))
             for e, _ in history.events}

    def entities(ids: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
        return np.asarray([by_id[i][0] for i in ids], dtype=np.int64), [by_id[i][1] for i in ids]

    model = _fit(ts, synthetic.PARAMS, window, clock.now().timestamp(), entities)
    row = _store(session, model, role="champion", source="bootstrap", start=start, end=end, known_at=end)
    log.info("risk_model_bootstrapped", version=row.version, rows=row.rows, frauds=row.frauds,
             metrics=row.metrics)
    return views.model_read(row)
