"""`atrium bench risk` at tiny sizes against the real server: both endpoints answer without an error, the
figures are ratios to the same run's trivial endpoint, and every answered decision is in the decision log
with the outcome it was answered with. Not a performance test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atrium.bench.report import Reporter, write_json
from atrium.bench.risk_api import RiskApiBenchConfig, Stream, traffic
from atrium.bench.risk_api import run as run_risk
from atrium.bench.risk_api_report import check_lines, risk_markdown, risk_table


def test_the_stream_keeps_its_order_and_gives_fresh_transaction_ids() -> None:
    rows, source = traffic(RiskApiBenchConfig.quick(traffic_rows=50))
    assert len(rows) == 50 and source.startswith("synthetic")
    stream = Stream(rows, "t")
    taken = [stream.take() for _ in range(120)]
    assert [t["card_ref"] for t in taken[:50]] == [r["card_ref"] for r in rows]
    assert len({t["transaction_id"] for t in taken}) == 120
    assert all(t["channel"] == "card" and t["amount_minor"] >= 0 for t in taken)


@pytest.mark.database_independent
def test_risk_api_bench_smoke_against_the_real_server(tmp_path: Path) -> None:
    # Half a second a phase: the warm-up decisions already took the decision path through its first calls.
    cfg = RiskApiBenchConfig.quick(connections=4, seconds=0.5, warmup=0.2, warm_rows=40,
                                   database_url=f"sqlite:///{tmp_path / 'risk.db'}", var_dir=tmp_path)
    with Reporter(quiet=True) as reporter:
        doc = run_risk(cfg, reporter)
    by_endpoint = {r["endpoint"]: r for r in doc["results"]}
    assert set(by_endpoint) == {"trivial", "decide"}
    for r in by_endpoint.values():
        assert r["errors"] == 0, r["first_error"]
        assert r["ok"] > 0 and r["req_per_s"] > 0
    assert by_endpoint["trivial"]["ratio_to_trivial"] == 1.0
    assert sum(by_endpoint["decide"]["outcomes"].values()) == by_endpoint["decide"]["ok"]
    [check] = doc["checks"]
    assert check["warm_decisions"] >= 40 and check["warm_error"] is None
    assert check["answered"] > check["warm_decisions"] and check["answered_logged"], check
    assert doc["all_answered_logged"]
    assert risk_table(doc).row_count == 2 and all(ok for ok, _ in check_lines(doc))
    assert risk_markdown(doc).count("\n") == 3
    write_json(doc, tmp_path / "risk.json")
    assert json.loads((tmp_path / "risk.json").read_text())["benchmark"] == "risk-api"
