"""The book's reference models on the same folds (`--baseline`): their 15 inputs against a row-by-row
reading of the book's definitions and against the handbook's own transformed table; the forest's and the
balanced bagging's runs through the same selection and metric code; the CLI's report."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from atrium.cli import app
from atrium.risk.benchmark import baseline
from atrium.risk.benchmark.data import DAY_S, read_transactions
from atrium.risk.benchmark.protocol import make_folds
from tests.risk.benchmark import synthetic

pytestmark = pytest.mark.database_independent

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "fraud-handbook"
START = datetime(2031, 3, 3)  # a Monday


def reference(rows: list[tuple[int, int, int, float, int]], delay_days: int = 7) -> list[list[float]]:
    """Row by row, from the book's words: rows are (seconds from START, customer, terminal, amount, fraud)
    in file order (time order, ties kept)."""
    out = []
    for i, (t, customer, terminal, amount, _) in enumerate(rows):
        when = START + timedelta(seconds=t)
        values = [amount, float(when.weekday() >= 5), float(when.hour <= 6)]
        for w in baseline.WINDOW_DAYS:
            mine = [a for s, c, _, a, _ in rows[:i + 1] if c == customer and s > t - w * DAY_S]
            values += [float(len(mine)), sum(mine) / len(mine)]
        end = t - delay_days * DAY_S
        for w in baseline.WINDOW_DAYS:
            # The book's window is the delayed window ending at t - delay, read from rows up to this one.
            there = [f for s, _, k, _, f in rows[:i + 1] if k == terminal and end - w * DAY_S < s <= end]
            values += [float(len(there)), sum(there) / len(there) if there else 0.0]
        out.append(values)
    return out


def write_stream(path: Path, rows: list[tuple[int, int, int, float, int]]) -> Path:
    return synthetic.write(path, [
        {"TRANSACTION_ID": i, "TX_DATETIME": (START + timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S"),
         "CUSTOMER_ID": c, "TERMINAL_ID": k, "TX_AMOUNT": a, "TX_FRAUD": f}
        for i, (t, c, k, a, f) in enumerate(rows)])


event = st.tuples(st.integers(0, 50 * 86400), st.integers(0, 3), st.integers(0, 3),
                  st.floats(0.01, 500, allow_nan=False).map(lambda a: round(a, 2)), st.integers(0, 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(event, min_size=1, max_size=40).map(lambda rows: sorted(rows, key=lambda r: r[0])),
       st.sampled_from([0, 3600, 86400]))
def test_the_features_match_the_book_s_definitions_row_by_row(rows: list, tie: int) -> None:
    if len(rows) > 1:  # same-second rows of one customer must count up to the row itself, in file order
        rows = sorted([*rows, (rows[0][0] + tie, rows[0][1], rows[0][2], 7.5, 1)], key=lambda r: r[0])
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        data = read_transactions(write_stream(Path(folder) / "t.csv", rows))
    got = baseline.book_features(data)
    order = np.argsort(data.tx_id.astype(int))  # back to file order, as `reference` reads it
    np.testing.assert_allclose(got[order], np.array(reference(rows)), rtol=1e-9, atol=1e-9)


def test_a_label_younger_than_the_delay_never_reaches_a_terminal_feature(tmp_path: Path) -> None:
    day = int(DAY_S)
    rows = [(day // 2, 1, 9, 10.0, 1), (3 * day, 2, 9, 10.0, 1), (8 * day, 3, 9, 10.0, 0)]
    data = read_transactions(write_stream(tmp_path / "t.csv", rows))
    last = baseline.book_features(data)[2]
    named = dict(zip(baseline.FEATURES, last, strict=True))
    # Eight days on, only the first fraud is 7 days old: the second (5 days old) is not yet known.
    assert named["TERMINAL_ID_NB_TX_7DAY_WINDOW"] == 1 and named["TERMINAL_ID_RISK_7DAY_WINDOW"] == 1.0
    assert named["TERMINAL_ID_NB_TX_1DAY_WINDOW"] == 1  # the window (t-8d, t-7d] holds the first only


@pytest.mark.skipif(not (SHARED / "features.parquet").exists(), reason="the handbook data is not present")
def test_the_features_match_the_handbook_s_own_table() -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    data = read_transactions(SHARED / "transactions.csv.gz")
    got = baseline.book_features(data)
    table = pq.read_table(SHARED / "features.parquet", columns=["TRANSACTION_ID", *baseline.FEATURES])
    ids = table.column("TRANSACTION_ID").to_numpy()
    rows = np.argsort(ids)[np.searchsorted(np.sort(ids), data.tx_id.astype(ids.dtype))]
    assert (ids[rows] == data.tx_id.astype(ids.dtype)).all()
    same_second = _customer_same_second(data)
    for j, name in enumerate(baseline.FEATURES):
        book = table.column(name).to_numpy().astype(np.float64)[rows]
        off = ~np.isclose(got[:, j], book, rtol=1e-6, atol=1e-9)
        # The handbook sorts each customer's rows by time with an unstable sort: two transactions in the
        # same second may count in the other order. Those rows are the only differences allowed.
        assert not (off & ~same_second).any(), (name, int(off.sum()))
        assert int(off.sum()) <= 20, name


def _customer_same_second(data) -> np.ndarray:  # type: ignore[no-untyped-def]
    customer = np.unique(data.customer, return_inverse=True)[1].astype(np.int64)
    key = customer * (1 << 40) + data.at.astype(np.int64)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse] > 1


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stream")
    return synthetic.write(folder / "transactions.csv.gz", synthetic.rows())


def test_the_forest_runs_each_fold_through_the_same_selection_and_metrics(stream: Path) -> None:
    data = read_transactions(stream)
    folds = make_folds("prequential", "2031-03-26", 2)
    grid = ({"max_depth": 3, "n_estimators": 5}, {"max_depth": 8, "n_estimators": 10})
    seen: list[tuple[str, int, int]] = []
    [out] = baseline.run(data, folds, models=(replace(baseline.FOREST, grid=grid),), jobs=1,
                         progress=lambda *a: seen.append(a))
    assert out["key"] == "random_forest"
    assert [f["train"] for f in out["folds"]] == ["2031-03-26..04-01", "2031-04-02..08"]
    for fold in out["folds"]:
        assert fold["params"] in [dict(p) for p in grid]
        assert fold["validation"]["train"] < fold["train"]
        assert len(fold["validation"]["candidates"]) == 2
        assert 0.5 < fold["auc"] <= 1 and 0 < fold["ap"] <= 1 and 0 <= fold["cp100"] <= 1
    assert out["auc"] == pytest.approx(np.mean([f["auc"] for f in out["folds"]]))
    assert seen[-1] == ("random forest: fold 1", 3, 3)
    assert baseline.ratio(0.3, 0.25) == pytest.approx(1.2) and baseline.ratio(0.3, math.nan) is None


def test_the_balanced_bagging_undersamples_each_tree_s_sample_to_the_chosen_ratio(stream: Path) -> None:
    data = read_transactions(stream)
    folds = make_folds("prequential", "2031-03-26", 2)
    grid = ({"sampling_strategy": 0.1}, {"sampling_strategy": 1.0})
    [out] = baseline.run(data, folds, models=(replace(baseline.BALANCED_BAGGING, grid=grid),), jobs=1)
    assert out["key"] == "balanced_bagging" and out["grid"] == [dict(p) for p in grid]
    for fold in out["folds"]:
        assert fold["params"] in [dict(p) for p in grid]
        assert [c["params"] for c in fold["validation"]["candidates"]] == [dict(p) for p in grid]
        assert 0.5 < fold["auc"] <= 1 and 0 < fold["ap"] <= 1 and 0 <= fold["cp100"] <= 1
    # The model is the book's: 100 trees of depth 20, each fitted on a sample with `ratio` frauds per
    # genuine transaction.
    lo, hi = (int(np.searchsorted(data.day, d)) for d in (folds[0].window.train_start,
                                                          folds[0].window.train_start + 7))
    X, y = baseline.book_features(data)[lo:hi], data.fraud[lo:hi]
    model = baseline.BALANCED_BAGGING.build({"sampling_strategy": 0.5}, 1).fit(X, y)
    assert len(model.estimators_) == 100
    assert all(e[-1].get_depth() <= 20 for e in model.estimators_)
    for tree, drawn in zip(model.estimators_[:5], model.estimators_samples_[:5], strict=True):
        kept = y[drawn][tree[0].sample_indices_]  # each tree: its bootstrap's frauds, twice as many genuine
        assert kept.sum() == y[drawn].sum() > 0 and (kept == 0).sum() == int(kept.sum() / 0.5)
    # A sample richer in fraud than asked for keeps every genuine transaction; one without fraud keeps one.
    assert baseline._genuine_kept(0.5, np.array([0] * 10 + [1] * 3)) == {0: 6}
    assert baseline._genuine_kept(0.1, np.array([0] * 10 + [1] * 3)) == {0: 10}
    assert baseline._genuine_kept(0.5, np.array([0] * 10)) == {0: 1}


def test_a_training_week_without_fraud_gives_a_model_that_scores_nothing(stream: Path) -> None:
    data = read_transactions(stream)
    book = baseline._Book(data, baseline.book_features(data), baseline.BALANCED_BAGGING, 1)
    genuine_only = np.flatnonzero(data.fraud == 0)
    day = int(data.day[genuine_only[0]])
    fraud_days = set(data.day[data.fraud == 1].tolist())
    quiet = next((d for d in range(int(data.day[0]), int(data.day[-1]) - 6)
                  if not fraud_days & set(range(d, d + 7))), None)
    if quiet is None:  # the synthetic stream has frauds every week: make a week without any
        data.fraud[(data.day >= day) & (data.day < day + 7)] = 0
        quiet = day
    model = book.fit(quiet, {"sampling_strategy": 0.5})
    assert not baseline._fraud_probability(model, book.X[:50]).any()


def test_the_cli_reports_the_book_s_models_beside_the_decision_path(stream: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["risk", "benchmark", "--data", str(stream), "--protocol", "single", "--train-start",
            "2031-04-16", "--json", str(out), "--baseline"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "the book's models on its 15 inputs" in result.output and "×" in result.output
    assert "book's balanced bagging" in result.output
    doc = json.loads(out.read_text())
    forest, bagging = doc["baselines"]
    assert forest["key"] == "random_forest" and bagging["key"] == "balanced_bagging"
    assert forest["features"] == list(baseline.FEATURES) and len(forest["grid"]) == len(baseline.FOREST_GRID)
    assert len(bagging["grid"]) == len(baseline.BAGGING_GRID)
    for b in (forest, bagging):
        assert b["folds"][0]["test"] == doc["folds"][0]["test"]
        assert b["ratio"]["ap"] == pytest.approx(doc["ap"] / b["ap"])
