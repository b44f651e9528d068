"""`atrium bench risk-ab` at tiny sizes: two real servers take turns, each round names both variants, the
ratio is B ÷ A, and every answered decision is in its own server's log. Not a performance test."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium.bench.report import Reporter
from atrium.bench.risk_ab import RiskAbConfig, Variant, run


def test_a_variant_is_a_name_and_an_environment() -> None:
    assert Variant.parse("old:ATRIUM_RISK_API__DECIDER=false,PYTHONPATH=/x/src") == Variant(
        "old", {"ATRIUM_RISK_API__DECIDER": "false", "PYTHONPATH": "/x/src"})
    assert Variant.parse("new:") == Variant("new", {})
    for bad in ("no colon=1", ":KEY=1", "x:KEY", "x:=1"):
        with pytest.raises(ValueError):
            Variant.parse(bad)


@pytest.mark.database_independent
def test_two_servers_take_turns_and_every_answer_is_logged(tmp_path: Path) -> None:
    # One worker per server keeps it short (no decider to start); B differs by a setting, as variants do.
    cfg = RiskAbConfig(Variant.parse("batch32:"), Variant.parse("batch8:ATRIUM_RISK_API__MAX_BATCH=8"),
                       rounds=2, seconds=0.5, warmup=0.1, connections=4, workers=1, warm_rows=30,
                       data=None, traffic_rows=300, model=False, var_dir=tmp_path)
    with Reporter(quiet=True) as reporter:
        doc = run(cfg, reporter)
    assert [row["order"] for row in doc["rounds"]] == [["batch32", "batch8"], ["batch8", "batch32"]]
    for row in doc["rounds"]:
        for name in ("batch32", "batch8"):
            assert row[name]["errors"] == 0 and row[name]["decisions_per_s"] > 0
    assert len(doc["ratio_b_to_a"]["per_round"]) == 2 and doc["ratio_b_to_a"]["median"] > 0
    assert doc["all_answered_logged"], doc["checks"]
    assert all(check["answered"] > 30 for check in doc["checks"].values())
