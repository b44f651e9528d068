"""The PWA bench's table (terminal) and Markdown (bench/README.md)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from atrium.bench.report import fmt

_HEAD = ("page", "state", "LCP ms", "FCP ms", "TTFB ms", "KiB", "requests", "from SW", "LCP ×base",
         "KiB ×base", "LCP element")


def _cells(r: dict[str, Any]) -> list[str]:
    ratio = r.get("ratio_to_baseline", {})
    kib = r["bytes"] / 1024 if r["bytes"] is not None else None
    return [
        r["page"], r["state"], fmt(r["lcp_ms"], 0), fmt(r["fcp_ms"], 0), fmt(r["ttfb_ms"], 0), fmt(kib, 1),
        fmt(r["requests"], 0), fmt(r["from_service_worker"], 0), fmt(ratio.get("lcp_ms"), 2),
        fmt(ratio.get("bytes"), 2), r.get("lcp_element") or "—",
    ]


def pwa_table(doc: dict[str, Any]) -> Table:
    prof = doc["profile"]
    table = Table(title=f"Page loads in Chromium {doc['chromium']}: {prof['viewport']['width']}×"
                        f"{prof['viewport']['height']} @{prof['device_scale_factor']}, "
                        f"{prof['latency_ms']:.0f} ms RTT, {prof['download_kbps']:.0f}/"
                        f"{prof['upload_kbps']:.0f} kbit/s, CPU ÷{prof['cpu_slowdown']:g} "
                        f"(medians of {doc['config']['runs']}; baseline: {doc['baseline']})")
    for col in _HEAD:
        table.add_column(col, justify="left" if col in ("page", "state", "LCP element") else "right")
    for r in doc["results"]:
        table.add_row(*_cells(r))
    return table


def pwa_markdown(doc: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    for r in doc["results"]:
        cells = [c.replace("—", "–").replace("|", "\\|") for c in _cells(r)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def budget_lines(doc: dict[str, Any]) -> list[tuple[bool, str]]:
    """(ok, sentence) for each budget and check, for the terminal."""
    b, c = doc["budgets"], doc["checks"]
    home = {r["state"]: r for r in doc["results"] if r["page"] == "home"}
    kib = (home["cold"]["bytes"] or 0) / 1024
    return [
        (b["home_cold_lcp_ok"], f"home LCP cold {fmt(home['cold']['lcp_ms'], 0)} ms "
                                f"(budget < {b['lcp_ms_limit']:.0f} ms)"),
        (b["home_warm_lcp_ok"], f"home LCP warm {fmt(home['warm']['lcp_ms'], 0)} ms"),
        (b["home_cold_bytes_ok"], f"home cold transfer {kib:,.1f} KiB "
                                  f"(budget < {b['cold_bytes_limit'] / 1024:.0f} KiB)"),
        (c["all_loads_200"], "every load answered 200"),
        (c["warm_loads_controlled_by_worker"], "every warm load was controlled by the service worker"),
        (not c["test_only_scripts_loaded"],
         f"test-only scripts loaded: {_names(c['test_only_scripts_loaded'])}"),
        (not c["pages_loading_chart_js"], f"pages loading chart.js: {_names(c['pages_loading_chart_js'])}"),
    ]


def _names(values: list[str]) -> str:
    return ", ".join(values) if values else "none"
