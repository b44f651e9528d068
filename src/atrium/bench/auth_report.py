"""Tables for `atrium bench auth`: the flows against the trivial endpoint, and the argon2id parameter sets."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from atrium.bench.report import fmt


def auth_table(doc: dict[str, Any]) -> Table:
    table = Table(title=f"Sign-in and token refresh vs the trivial endpoint ({doc['server']})")
    for col in ("database", "flow", "connections", "per s", "ratio to trivial", "p50 ms", "p99 ms", "ok",
                "errors", "server CPU", "generator CPU"):
        table.add_column(col, justify="left" if col in ("database", "flow") else "right")
    for r in doc["results"]:
        table.add_row(
            r["database"], r["flow"], str(r["concurrency"]), fmt(r["req_per_s"]),
            fmt(r["ratio_to_trivial"], 4),
            fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2), str(r["ok"]), str(r["errors"]),
            fmt(r["server_cpu_share"], 2), fmt(r["generator_cpu_share"], 2),
        )
    return table


def argon2_table(doc: dict[str, Any]) -> Table:
    a = doc["argon2"]
    table = Table(title="argon2id on this machine (production = the bench server's own parameters)")
    for col in ("set", "t", "m MiB", "p", "hash ms", "verify ms", "verifies/s", "threads", "p99 ms"):
        table.add_column(col, justify="left" if col == "set" else "right")
    for r in a["parameter_sets"]:
        table.add_row(r["name"], str(r["time_cost"]), str(r["memory_mib"]), str(r["parallelism"]),
                      fmt(r["hash_ms"]), fmt(r["verify_ms"]), fmt(r["verifies_per_s"]), str(r["threads"]),
                      fmt(r["verify_p99_ms_under_load"]))
    return table
