"""`atrium risk benchmark` end to end on a small synthetic stream dated 2031 (fast), its outputs checked
against an independent recomputation; label visibility in the fold's training set; the real data (skipped
unless present)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from atrium.cli import app
from atrium.risk.benchmark.data import DAY_S, read_transactions
from atrium.risk.benchmark.replay import BenchConfig, run
from tests.risk.benchmark import independent, synthetic

pytestmark = pytest.mark.database_independent

REAL = Path("/work/shared/data/fraud-handbook/transactions.csv.gz")


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stream")
    synthetic.write(folder / "transactions.csv.gz", synthetic.rows())
    return folder


def test_prequential_run_writes_json_and_scores_that_recompute_independently(stream: Path,
                                                                             tmp_path: Path) -> None:
    out, scores = tmp_path / "r.json", tmp_path / "s.csv"
    args = ["risk", "benchmark", "--data", str(stream), "--protocol", "prequential",
            "--train-start", "2031-03-26", "--json", str(out), "--scores", str(scores)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "mean ± std" in result.output and "decisions/s" in result.output
    doc = json.loads(out.read_text())
    for key in ("auc", "ap", "cp100", "folds", "latency_p50_ms", "latency_p99_ms", "decisions_per_s"):
        assert key in doc
    assert [f["train"] for f in doc["folds"]] == ["2031-03-26..04-01", "2031-04-02..08", "2031-04-09..15",
                                                  "2031-04-16..22"]
    assert all(f["params_source"] == "validation" for f in doc["folds"])
    assert doc["folds"][0]["validation"]["train"] == "2031-03-05..11"  # ends before the fold's training week
    assert doc["auc"] > 0.6 and doc["latency_p99_ms"] > 0 and doc["decisions_per_s"] > 0
    assert doc["auc"] == pytest.approx(np.mean([f["auc"] for f in doc["folds"]]))

    # Every test-week transaction has exactly one score, and the figures recompute from the CSV alone.
    rows = independent.read_rows(stream / "transactions.csv.gz")
    folds = independent.read_scores(scores)
    assert sorted(folds) == [0, 1, 2, 3]
    with scores.open() as f:
        assert next(csv.reader(f)) == ["fold", "TRANSACTION_ID", "score"]
    for fold in doc["folds"]:
        scored = folds[fold["fold"]]
        week = {d for d, _, _ in (rows[tx] for tx, _ in scored)}
        assert len(week) == 7
        assert len(scored) == sum(1 for d, _, _ in rows.values() if d in week)
        again = independent.fold_metrics(rows, scored)
        for metric in ("auc", "ap", "cp100"):
            assert fold[metric] == pytest.approx(again[metric], abs=1e-9), (fold["fold"], metric)


def test_default_windows_on_data_that_ends_early_fail_with_a_clear_message(stream: Path) -> None:
    result = CliRunner().invoke(app, ["risk", "benchmark", "--data", str(stream)])
    assert result.exit_code == 2
    assert "no transactions in the test week 2018-08-08..14; the data" in " ".join(result.output.split())


def test_a_fold_trains_only_on_labels_that_have_arrived(stream: Path) -> None:
    """With a 10-day label delay, frauds of the training week's last 3 days have not arrived when the fold's
    model is trained (at the start of its test week, 14 days after the training week starts)."""
    data = read_transactions(stream)
    cfg = BenchConfig(protocol="single", train_start="2031-03-26", select=False, label_delay_days=10)
    result = run(data, cfg)
    (fold,) = result.folds
    start = np.datetime64("2031-03-26").astype(int)
    week = (data.day >= start) & (data.day < start + 7)
    known_at = (start + 14) * DAY_S
    arrived = week & (data.fraud == 1) & (data.at + 10 * DAY_S <= known_at)
    assert fold["model"]["rows"] == int(week.sum())
    assert fold["model"]["frauds"] == int(arrived.sum()) < int((week & (data.fraud == 1)).sum())
    assert fold["params_source"].startswith("default")


@pytest.mark.skipif(not REAL.exists(), reason="the handbook data is not in ../shared/data")
def test_the_real_data_reads_without_the_scenario_column() -> None:
    data = read_transactions(REAL)
    assert len(data) == 1_102_483 and int(data.fraud.sum()) == 8_867
    assert str(np.datetime64(int(data.first_day), "D")) == "2018-04-01"
