"""The benchmark harness at tiny sizes: it runs end to end, reports what it measured, and its checks hold.

These are not performance tests (a benchmark never fails the build on a slow machine); they check that the
figures are produced, that nothing failed during the runs and that the ledger stayed consistent.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from atrium.bench import baselines
from atrium.bench.api import ApiBenchConfig, run_each
from atrium.bench.ledger import LedgerBenchConfig
from atrium.bench.ledger import run as run_ledger
from atrium.bench.load import AccountChooser, percentile, run_closed_loop
from atrium.bench.report import Reporter, api_table, ledger_table, write_json


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_hotspot_sends_half_the_transfers_through_ten_accounts() -> None:
    chooser = AccountChooser(200, "hotspot")
    pairs = [chooser.pair() for _ in range(20_000)]
    touching_hot = sum(1 for a, b in pairs if a < 10 or b < 10) / len(pairs)
    assert 0.47 < touching_hot < 0.53
    assert all(a != b for a, b in pairs)
    uniform = AccountChooser(200, "uniform")
    assert sum(1 for a, b in (uniform.pair() for _ in range(20_000)) if a < 10 or b < 10) / 20_000 < 0.15


def test_closed_loop_counts_only_successes_inside_the_window() -> None:
    calls = []

    def op(k: int, seq: int) -> None:
        calls.append(k)
        if seq % 2:
            raise RuntimeError("odd")

    result = run_closed_loop(2, op, seconds=0.2, warmup=0.05)
    assert result.completed > 0 and result.errors > 0
    assert result.first_error == "RuntimeError: odd"
    assert result.completed + result.errors <= len(calls)
    assert len(result.latencies_ms) == result.completed


def test_pgbench_log_lines_give_latencies_and_skip_failures(tmp_path: Path) -> None:
    log = tmp_path / "pgbench-c1.123"
    log.write_text("0 1 1500 0 1700000000 1\n0 2 2500 0 1700000000 2\n0 3 failed 0 1700000000 3\n")
    assert baselines.read_pgbench_log([log]) == [1.5, 2.5]


@pytest.mark.database_independent
def test_raw_sqlite_baseline_moves_money_without_losing_any(tmp_path: Path) -> None:
    result = baselines.sqlite_raw_run(tmp_path / "raw.db", n_accounts=20, workload="hotspot", clients=3,
                                      seconds=0.2, warmup=0.05, funds=1_000_000, run_id="t")
    assert result.completed > 0 and result.errors == 0  # the run itself checks the total


@pytest.mark.database_independent
def test_ledger_bench_smoke_on_sqlite(tmp_path: Path) -> None:
    cfg = LedgerBenchConfig.quick(databases=("sqlite",), clients=(1, 3), seconds=0.6, warmup=0.1, accounts=15,
                                  var_dir=tmp_path)
    with Reporter(quiet=True) as reporter:
        doc = run_ledger(cfg, reporter)
    rows = doc["results"]
    assert {(r["workload"], r["clients"], r["mode"]) for r in rows} == {
        (w, c, m) for w in ("uniform", "hotspot") for c in (1, 3) for m in ("direct", "batched")
    } | {("hotspot", c, m) for c in (1, 3) for m in ("ledger-direct", "ledger-batched")}
    for r in rows:
        assert r["errors"] == 0, r["first_error"]
        assert r["atrium_tps"] > 0 and r["baseline_tps"] > 0
        # The report rounds each rate before it is printed and the ratio from the unrounded rates: at the
        # smoke run's low rates the rounding alone moves the quotient by a few parts in a thousand, and the
        # ratio itself is kept to four decimals.
        assert r["ratio"] == pytest.approx(r["atrium_tps"] / r["baseline_tps"], rel=5e-3, abs=1e-4)
        assert r["p50_ms"] <= r["p99_ms"]
        assert r["baseline"] == "sqlite3-raw"
    assert all(r["mean_batch"] >= 1 for r in rows if r["mode"].endswith("batched"))
    assert doc["databases"]["sqlite"]["ledger_check_ok"], doc["databases"]["sqlite"]["ledger_check"]
    write_json(doc, tmp_path / "ledger.json")
    assert json.loads((tmp_path / "ledger.json").read_text())["benchmark"] == "ledger"
    assert ledger_table(doc).row_count == len(rows)


@pytest.mark.postgres
def test_ledger_bench_smoke_on_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = os.environ.get("ATRIUM_TEST_DATABASE_URL", "")
    if not url.startswith("postgres") or shutil.which("pgbench") is None:
        pytest.skip("needs ATRIUM_TEST_DATABASE_URL on PostgreSQL and pgbench")
    monkeypatch.setenv("ATRIUM_BENCH_DATABASE_URL", url.rsplit("/", 1)[0] + "/atrium_bench_smoke")
    cfg = LedgerBenchConfig.quick(databases=("postgresql",), clients=(2,), workloads=("hotspot",),
                                  seconds=0.5, warmup=0.1, accounts=15, pg_writers=2, var_dir=tmp_path)
    with Reporter(quiet=True) as reporter:
        doc = run_ledger(cfg, reporter)
    assert doc["skipped"] == {}
    rows = doc["results"]
    assert [r["mode"] for r in rows] == ["direct", "batched", "ledger-direct", "ledger-batched"]
    for r in rows:
        assert r["errors"] == 0, r["first_error"]
        assert r["baseline"] == "pgbench-tpcb" and r["baseline_tps"] > 0 and r["baseline_p99_ms"] is not None
    assert doc["databases"]["postgresql"]["ledger_check_ok"], doc["databases"]["postgresql"]["ledger_check"]


GENERATORS = ("raw", "httpx")


@pytest.fixture(scope="module")
def api_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:  # type: ignore[type-arg]
    """`atrium bench api` with each generator, one after the other against one server (`run_each`): a
    server start costs seconds of imports, the same for every run."""
    tmp_path = tmp_path_factory.mktemp("api-bench")
    cfgs = [ApiBenchConfig.quick(connections=4, seconds=1.0, warmup=0.3, customers=8, generator=generator,
                                 database_url=f"sqlite:///{tmp_path / 'api.db'}", var_dir=tmp_path)
            for generator in GENERATORS]
    with Reporter(quiet=True) as reporter:
        docs = run_each(cfgs, reporter)
    return {doc["generator"]: doc for doc in docs}


@pytest.mark.database_independent
@pytest.mark.parametrize("generator", GENERATORS)
def test_api_bench_smoke_against_the_real_server(api_docs: dict[str, dict], generator: str) -> None:  # type: ignore[type-arg]
    doc = api_docs[generator]
    by_endpoint = {r["endpoint"]: r for r in doc["results"]}
    assert set(by_endpoint) == {"trivial", "transfer", "home"}
    for r in by_endpoint.values():
        assert r["errors"] == 0, r["first_error"]
        assert r["ok"] > 0 and r["req_per_s"] > 0
    assert by_endpoint["trivial"]["ratio_to_trivial"] == 1.0
    checks = doc["checks"]
    assert checks["transfers_answered_201"] > 0
    assert checks["answered_implies_committed"] and checks["ledger_check_ok"]
    assert api_table(doc).row_count == 3
