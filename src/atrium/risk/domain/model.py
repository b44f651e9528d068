"""The learned model: LightGBM trained on the feature log, serialised with its registry metadata, and a
`Scorer` fast enough for the decision path.

Invariants:
- A model knows the exact feature names (and order) it was trained on; the scorer reads them from the
  feature dict by name, NaN where absent, so a feature added later never shifts a column.
- Training is deterministic for the same rows and parameters (fixed seed, `deterministic=True`).
- `Scorer.score` is one row through LightGBM's single-row fast path (a few µs); `explain` (SHAP values via
  `pred_contrib`, ~0.5 ms) runs only when asked, never on every decision.
- lightgbm is imported when a model is trained or loaded, so importing this module stays cheap.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import operator
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

import numpy as np

DEFAULT_PARAMS: Final[Mapping[str, Any]] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "n_estimators": 300,
    "num_leaves": 31,
    "min_child_samples": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "scale_pos_weight": 1.0,
    "seed": 7,
}
# Fixed for every model: reproducible and quiet.
_FIXED: Final = {"deterministic": True, "force_row_wise": True, "verbose": -1}
_HEADER_END: Final = b"\n--lightgbm--\n"


class ModelError(ValueError):
    """A training set or serialised model that cannot be used."""


@dataclass(frozen=True)
class ModelMetadata:
    """What the registry shows about a model: enough to know what it is and reproduce it."""

    version: str
    feature_names: tuple[str, ...]
    params: dict[str, Any]
    created_at: float
    rows: int
    frauds: int
    window: dict[str, Any] = field(default_factory=dict)  # e.g. {"start": ..., "end": ..., "labels_known_at"}
    metrics: dict[str, Any] = field(default_factory=dict)
    lightgbm_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["feature_names"] = list(self.feature_names)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelMetadata:
        values = dict(data)
        values["feature_names"] = tuple(values["feature_names"])
        return cls(**values)


class TrainedModel:
    """A LightGBM booster plus its metadata."""

    def __init__(self, booster: Any, metadata: ModelMetadata) -> None:
        self.booster = booster
        self.metadata = metadata

    def to_bytes(self) -> bytes:
        header = json.dumps(self.metadata.to_dict(), sort_keys=True).encode()
        return header + _HEADER_END + self.booster.model_to_string().encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        import lightgbm as lgb

        header, sep, body = blob.partition(_HEADER_END)
        if not sep:
            raise ModelError("not a serialised Atrium model")
        try:
            metadata = ModelMetadata.from_dict(json.loads(header))
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelError(f"bad model header: {exc}") from exc
        return cls(lgb.Booster(model_str=body.decode()), metadata)

    def with_metrics(self, metrics: Mapping[str, Any]) -> TrainedModel:
        return TrainedModel(self.booster, replace(self.metadata, metrics=dict(metrics)))

    def scorer(self) -> Scorer:
        return Scorer(self)


def known_labels(fraud: np.ndarray | Sequence[int], arrived_at: np.ndarray | Sequence[float],
                 known_at: float) -> np.ndarray:
    """The labels a model trained at `known_at` may learn from: 1 only where a fraud label had arrived by
    then. An event whose label is still to come counts as genuine, as the unlabelled majority does."""
    fraud_arr = np.asarray(fraud, dtype=np.int8)
    arrived = np.asarray(arrived_at, dtype=np.float64)
    return ((fraud_arr == 1) & (arrived <= known_at)).astype(np.int8)


def train(X_rows: np.ndarray, y: Sequence[int] | np.ndarray, feature_names: Sequence[str],
          params: Mapping[str, Any] | None = None, *, num_threads: int = 1,
          window: Mapping[str, Any] | None = None, created_at: float | None = None) -> TrainedModel:
    """Train on rows whose columns are `feature_names`. Columns with no value at all (an entity kind the
    training period never had) are left out: the model cannot split on them.

    One thread by default: on a shared two-core machine OpenMP threads that wait for a busy core make
    training many times slower, and their spinning afterwards steals the decision path's core."""
    import lightgbm as lgb

    X = np.asarray(X_rows, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(feature_names) or len(labels) != X.shape[0]:
        raise ModelError(f"rows {X.shape} do not match {len(feature_names)} feature names "
                         f"and {len(labels)} labels")
    frauds = int(labels.sum())
    if frauds == 0 or frauds == len(labels):
        raise ModelError("the training set needs both fraud and genuine labels")
    keep = ~np.isnan(X).all(axis=0)
    names = tuple(n for n, k in zip(feature_names, keep, strict=True) if k)
    merged = {**DEFAULT_PARAMS, **(params or {})}
    rounds = int(merged.pop("n_estimators"))
    lgb_params = {**merged, **_FIXED, "num_threads": max(1, int(num_threads))}
    dataset = lgb.Dataset(X[:, keep], label=labels, feature_name=list(names), free_raw_data=True)
    booster = lgb.train(lgb_params, dataset, num_boost_round=rounds)
    model_text = booster.model_to_string()
    created = time.time() if created_at is None else float(created_at)
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created))
    version = f"lgbm-{stamp}-{hashlib.sha256(model_text.encode()).hexdigest()[:8]}"
    metadata = ModelMetadata(
        version=version, feature_names=names, params={**merged, "n_estimators": rounds},
        created_at=created, rows=len(labels), frauds=frauds, window=dict(window or {}),
        lightgbm_version=lgb.__version__,
    )
    return TrainedModel(booster, metadata)


class Scorer:
    """Scores feature dicts with one model. Safe to share between threads (the fast path is locked)."""

    def __init__(self, model: TrainedModel) -> None:
        self.model = model
        self.version = model.metadata.version
        self.feature_names = model.metadata.feature_names
        self._row = np.zeros(len(self.feature_names), dtype=np.float64)
        self._lock = threading.Lock()
        self._fast = _FastPredictor.create(model.booster, len(self.feature_names))
        # The decision path's feature dicts hold every name: one C-level lookup of all of them.
        self._pick = operator.itemgetter(*self.feature_names) if len(self.feature_names) > 1 else None

    def row(self, features: Mapping[str, float]) -> np.ndarray:
        return np.fromiter((features.get(n, math.nan) for n in self.feature_names), dtype=np.float64,
                           count=len(self.feature_names))

    def score(self, features: Mapping[str, float]) -> float:
        """The fraud probability (0..1) of one feature vector."""
        with self._lock:
            row = self._row
            try:
                row[:] = self._pick(features)  # type: ignore[misc]
            except (KeyError, TypeError):  # a name missing (NaN), or a single-feature model
                for i, name in enumerate(self.feature_names):
                    row[i] = features.get(name, math.nan)
            if self._fast is not None:
                return self._fast.predict(row)
            return float(self.model.booster.predict(row.reshape(1, -1), num_threads=1)[0])

    def score_rows(self, X: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """Batch scores for rows whose columns are `columns` (e.g. the feature log); missing ones are NaN."""
        index = {c: i for i, c in enumerate(columns)}
        picked = np.full((X.shape[0], len(self.feature_names)), np.nan)
        for j, name in enumerate(self.feature_names):
            if name in index:
                picked[:, j] = X[:, index[name]]
        return np.asarray(self.model.booster.predict(picked, num_threads=1), dtype=np.float64)

    def explain(self, features: Mapping[str, float], k: int = 5) -> list[tuple[str, float]]:
        """The k features that moved this score most (SHAP contributions, log-odds), largest first."""
        row = self.row(features).reshape(1, -1)
        contrib = self.model.booster.predict(row, pred_contrib=True, num_threads=1)[0][:-1]
        order = np.argsort(-np.abs(contrib), kind="stable")[:k]
        return [(self.feature_names[i], float(contrib[i])) for i in order if contrib[i] != 0.0]


class _FastPredictor:
    """LightGBM's C single-row fast path (`LGBM_BoosterPredictForMatSingleRowFast`): ~8 µs instead of
    ~45 µs through `Booster.predict`. It relies on lightgbm internals, so `create` falls back to None (and
    the scorer to `Booster.predict`) if they are not there."""

    def __init__(self, lib: Any, handle: ctypes.c_void_p, booster: Any) -> None:
        self._lib, self._handle, self._booster = lib, handle, booster
        self._out = np.zeros(1, dtype=np.float64)
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._out_len = ctypes.c_int64()

    @classmethod
    def create(cls, booster: Any, n_features: int) -> _FastPredictor | None:
        try:
            from lightgbm import basic

            lib, handle = basic._LIB, ctypes.c_void_p()
            status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle, ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(-1),
                ctypes.c_int(1), ctypes.c_int32(n_features), ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(handle))
        except (AttributeError, ImportError, TypeError):
            return None
        return cls(lib, handle, booster) if status == 0 else None

    def predict(self, row: np.ndarray) -> float:
        status = self._lib.LGBM_BoosterPredictForMatSingleRowFast(
            self._handle, row.ctypes.data_as(ctypes.c_void_p), ctypes.byref(self._out_len), self._out_ptr)
        if status != 0:
            raise ModelError("LightGBM single-row prediction failed")
        return float(self._out[0])

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._lib.LGBM_FastConfigFree(handle)
