"""Tables for `atrium bench risk` (terminal and Markdown for bench/README.md)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from atrium.bench.report import fmt

COLUMNS = ("database", "config", "workers", "endpoint", "req/s", "ratio to trivial", "p50 ms", "p99 ms",
           "errors", "fallback", "server CPU", "generator CPU")


def _cells(r: dict[str, Any]) -> list[str]:
    return [r["database"], r["config"], str(r["workers"]), r["endpoint"], fmt(r["req_per_s"]),
            fmt(r["ratio_to_trivial"], 3), fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2), str(r["errors"]),
            _share(r.get("fallback_share")), fmt(r.get("server_cpu_share"), 2),
            fmt(r.get("generator_cpu_share"), 2)]


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def risk_table(doc: dict[str, Any]) -> Table:
    table = Table(title=f"Decision API at {doc['config']['connections']} connections vs the trivial endpoint "
                        "of the same server")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("database", "config", "endpoint") else "right")
    for r in doc["results"]:
        table.add_row(*_cells(r))
    return table


def risk_markdown(doc: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("—", "–") for c in _cells(r)) + " |" for r in doc["results"]]
    return "\n".join(lines)


def check_lines(doc: dict[str, Any]) -> list[tuple[bool, str]]:
    """(ok, line) per server run: every answered decision is in the log with the answered outcome."""
    return [(c["answered_logged"],
             f"{c['database']} {c['config']} {c['workers']}w: {c['logged']}/{c['answered']} answered "
             f"decisions in risk_decisions, {c['outcome_mismatches']} with another outcome")
            for c in doc["checks"]]
