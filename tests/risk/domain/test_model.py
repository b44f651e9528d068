"""Training, serialisation, the fast single-row scorer, explanations and label visibility."""

from __future__ import annotations

import math

import numpy as np
import pytest

from atrium.risk.domain.model import (
    ModelError,
    Scorer,
    TrainedModel,
    _FastPredictor,
    known_labels,
    train,
)

pytestmark = pytest.mark.database_independent

NAMES = ("amount", "ratio", "noise", "never_present")


def dataset(n: int = 3000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.gamma(2, 30, n), rng.lognormal(0, 0.5, n), rng.normal(size=n),
                         np.full(n, np.nan)])
    y = ((X[:, 1] > 2.2) | (X[:, 0] > 200)).astype(int)
    return X, y


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    X, y = dataset()
    return train(X, y, NAMES, {"n_estimators": 60, "num_leaves": 7}, num_threads=1,
                 window={"start": "2030-01-01", "end": "2030-01-07"}, created_at=1_900_000_000)


def test_training_records_what_the_registry_needs(model: TrainedModel) -> None:
    meta = model.metadata
    assert meta.feature_names == ("amount", "ratio", "noise")  # the all-NaN column is left out
    assert meta.rows == 3000 and meta.frauds == int(dataset()[1].sum())
    assert meta.params["n_estimators"] == 60 and meta.params["num_leaves"] == 7
    assert meta.window["start"] == "2030-01-01" and meta.version.startswith("lgbm-20300317")
    assert meta.lightgbm_version


def test_training_is_deterministic() -> None:
    X, y = dataset(800)
    a = train(X, y, NAMES, {"n_estimators": 20}, created_at=0).to_bytes()
    b = train(X, y, NAMES, {"n_estimators": 20}, created_at=0).to_bytes()
    assert a == b


def test_round_trip_and_scores_agree_with_lightgbm(model: TrainedModel) -> None:
    X, _ = dataset(200, seed=9)
    loaded = TrainedModel.from_bytes(model.to_bytes())
    assert loaded.metadata == model.metadata
    scorer = loaded.scorer()
    expected = model.booster.predict(X[:, :3])
    for row, want in zip(X, expected, strict=True):
        features = dict(zip(NAMES, row.tolist(), strict=True))
        assert scorer.score(features) == pytest.approx(want, abs=1e-12)
    np.testing.assert_allclose(scorer.score_rows(X, NAMES), expected, atol=1e-12)
    np.testing.assert_allclose(scorer.score_rows(X[:, [2, 0, 1]], ("noise", "amount", "ratio")), expected,
                               atol=1e-12)


def test_missing_features_are_nan_not_shifted(model: TrainedModel) -> None:
    scorer = model.scorer()
    direct = float(model.booster.predict(np.array([[50.0, math.nan, 0.1]]))[0])
    assert scorer.score({"amount": 50.0, "noise": 0.1, "unrelated": 9.0}) == pytest.approx(direct)


def test_the_fallback_path_scores_the_same(model: TrainedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    features = {"amount": 250.0, "ratio": 3.0, "noise": 0.0}
    fast = model.scorer().score(features)
    monkeypatch.setattr(_FastPredictor, "create", classmethod(lambda cls, booster, n: None))
    slow = Scorer(model)
    assert slow._fast is None and slow.score(features) == pytest.approx(fast, abs=1e-12)


def test_explain_names_the_features_that_moved_the_score(model: TrainedModel) -> None:
    top = model.scorer().explain({"amount": 20.0, "ratio": 4.0, "noise": 0.0}, k=2)
    assert top[0][0] == "ratio" and top[0][1] > 0
    assert len(top) <= 2 and all(isinstance(c, float) for _, c in top)


def test_bad_inputs_are_model_errors() -> None:
    X, y = dataset(100)
    with pytest.raises(ModelError, match="both fraud and genuine"):
        train(X, np.zeros(100), NAMES)
    with pytest.raises(ModelError, match="do not match"):
        train(X[:, :2], y, NAMES)
    with pytest.raises(ModelError, match="not a serialised"):
        TrainedModel.from_bytes(b"garbage")


def test_a_fraud_label_counts_for_training_only_once_it_has_arrived() -> None:
    fraud = [1, 1, 0, 1]
    arrived = [10.0, 20.0, 5.0, 30.0]
    assert known_labels(fraud, arrived, 19.9).tolist() == [1, 0, 0, 0]
    assert known_labels(fraud, arrived, 20.0).tolist() == [1, 1, 0, 0]
    assert known_labels(fraud, arrived, 99.0).tolist() == [1, 1, 0, 1]
