"""Progress, tables and JSON for the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table


def round_or_none(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


class Reporter:
    """A rich progress bar over the planned runs (silent when `quiet`, e.g. in tests)."""

    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._current: TaskID | None = None

    def __enter__(self) -> Reporter:
        if not self.quiet:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(),
                TextColumn("{task.completed:.0f}/{task.total:.0f}"), TimeElapsedColumn(),
                console=self.console, transient=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress:
            self._progress.stop()

    def plan(self, runs: int) -> None:
        if self._progress:
            self._overall = self._progress.add_task("all runs", total=runs)

    def phase(self, text: str) -> None:
        if self._progress:
            self._progress.console.log(text)

    def start(self, label: str) -> None:
        if self._progress:
            self._current = self._progress.add_task(label, total=100)

    def tick(self, fraction: float) -> None:
        if self._progress and self._current is not None:
            self._progress.update(self._current, completed=100 * fraction)

    def done(self) -> None:
        if self._progress and self._current is not None:
            self._progress.update(self._current, completed=100, visible=False)
            self._current = None
        if self._progress and self._overall is not None:
            self._progress.advance(self._overall)

    @staticmethod
    def machine() -> dict[str, Any]:
        import sqlalchemy

        return {
            "cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
            "sqlalchemy": sqlalchemy.__version__,
            # Other work on the machine (the 1-minute load average when the run ended): ratios are robust to
            # a busy neighbour, absolute figures are not.
            "load_average_1m": round(os.getloadavg()[0], 2),
        }


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def ledger_table(doc: dict[str, Any]) -> Table:
    table = Table(title="Ledger throughput: Atrium transfers/s vs the same run's baseline")
    for col in ("database", "workload", "clients", "mode", "transfers/s", "baseline tps", "ratio",
                "p50 ms", "p99 ms", "base p50", "base p99", "batch", "errors"):
        table.add_column(col, justify="left" if col in ("database", "workload", "mode") else "right")
    for r in doc["results"]:
        table.add_row(
            r["database"], r["workload"], str(r["clients"]), r["mode"], fmt(r["atrium_tps"]),
            f"{fmt(r['baseline_tps'])} ({r['baseline']})", fmt(r["ratio"], 3), fmt(r["p50_ms"], 2),
            fmt(r["p99_ms"], 2), fmt(r["baseline_p50_ms"], 2), fmt(r["baseline_p99_ms"], 2),
            fmt(r.get("mean_batch")), str(r["errors"]),
        )
    return table


def api_table(doc: dict[str, Any]) -> Table:
    table = Table(title=f"API at {doc['config']['connections']} connections, one uvicorn worker "
                        f"({doc['database']})")
    for col in ("endpoint", "req/s", "ratio to trivial", "p50 ms", "p99 ms", "ok", "errors",
                "server CPU", "generator CPU"):
        table.add_column(col, justify="left" if col == "endpoint" else "right")
    for r in doc["results"]:
        table.add_row(
            r["endpoint"], fmt(r["req_per_s"]), fmt(r["ratio_to_trivial"], 3), fmt(r["p50_ms"], 2),
            fmt(r["p99_ms"], 2), str(r["ok"]), str(r["errors"]), fmt(r.get("server_cpu_share"), 2),
            fmt(r.get("generator_cpu_share"), 2),
        )
    return table


def _md(value: Any, digits: int = 1) -> str:
    return fmt(value, digits).replace("—", "–")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def ledger_markdown(doc: dict[str, Any]) -> str:
    """The results as a Markdown table, for bench/README.md."""
    head = ["database", "workload", "clients", "mode", "transfers/s", "baseline tps", "ratio", "p50 ms",
            "p99 ms", "baseline p50 / p99 ms", "mean batch"]
    lines = [_md_row(head), "|" + "---|" * len(head)]
    for r in doc["results"]:
        lines.append(_md_row([
            r["database"], r["workload"], str(r["clients"]), r["mode"], _md(r["atrium_tps"]),
            _md(r["baseline_tps"]), _md(r["ratio"], 4), _md(r["p50_ms"], 2), _md(r["p99_ms"], 2),
            f"{_md(r['baseline_p50_ms'], 2)} / {_md(r['baseline_p99_ms'], 2)}", _md(r.get("mean_batch")),
        ]))
    return "\n".join(lines)


def api_markdown(doc: dict[str, Any]) -> str:
    head = ["endpoint", "req/s", "ratio to trivial", "p50 ms", "p99 ms", "server CPU", "generator CPU"]
    lines = [_md_row(head), "|" + "---|" * len(head)]
    for r in doc["results"]:
        lines.append(_md_row([
            r["endpoint"], _md(r["req_per_s"]), _md(r["ratio_to_trivial"], 3), _md(r["p50_ms"], 2),
            _md(r["p99_ms"], 2), _md(r.get("server_cpu_share"), 2), _md(r.get("generator_cpu_share"), 2),
        ]))
    return "\n".join(lines)


def wide_console() -> Console:
    """Tables of a dozen columns: give them room when the output is a file or a pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=180)


def print_summary(console: Console, doc: dict[str, Any]) -> None:
    for name, why in doc.get("skipped", {}).items():
        console.print(f"[yellow]skipped {name}: {why}[/]")
    for name, meta in doc.get("databases", {}).items():
        if "ledger_check_ok" in meta:
            style = "green" if meta["ledger_check_ok"] else "bold red"
            console.print(f"[{style}]{name} ledger check: {meta['ledger_check']}[/]")
