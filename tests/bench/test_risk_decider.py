"""`atrium bench risk-decider` at tiny sizes: the chain and a real decider process take turns, each round
has both sides' CPU per decision and their ratio, and every decision the decider answered is in its log.
Not a performance test."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium.bench.report import Reporter
from atrium.bench.risk_decider import RiskDeciderConfig, run


@pytest.mark.database_independent
def test_the_chain_and_the_decider_take_turns_and_every_answer_is_logged(tmp_path: Path) -> None:
    cfg = RiskDeciderConfig(rounds=2, decisions=200, warm_rows=32, in_flight=8, data=None, traffic_rows=300,
                            model=False, var_dir=tmp_path)
    with Reporter(quiet=True) as reporter:
        doc = run(cfg, reporter)
    assert [row["round"] for row in doc["rounds"]] == [1, 2]
    for row in doc["rounds"]:
        assert row["chain_cpu_us"] > 0 and row["decider_cpu_us"] > 0 and row["decider_decisions_per_s"] > 0
        assert row["ratio"] == pytest.approx(row["decider_cpu_us"] / row["chain_cpu_us"], rel=0.01)
    assert doc["checks"]["answered"] == 32 + 2 * 200 and doc["all_answered_logged"], doc["checks"]
    assert not list(tmp_path.glob("*.sock"))
