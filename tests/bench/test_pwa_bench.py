"""The PWA bench: its accounting from DevTools events, its checks, and one tiny run end to end in Chromium.

Not a performance test: no figure is compared with a limit here (budgets are reported, never asserted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atrium.bench import pwa
from atrium.bench.pwa_browser import Load, Resource, _Recorder
from atrium.bench.pwa_report import budget_lines, pwa_markdown, pwa_table
from atrium.bench.report import Reporter, write_json
from tests.web.browser_support import CHROMIUM


class FakeCdp:
    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def on(self, event: str, handler: Any) -> None:
        self.handlers[event] = handler

    def emit(self, event: str, **params: Any) -> None:
        self.handlers[event](params)


def _response(request_id: str, **response: Any) -> dict[str, Any]:
    return {"requestId": request_id, "response": {"status": 200, **response}}


def test_the_recorder_counts_wire_bytes_redirect_hops_and_worker_answers() -> None:
    cdp = FakeCdp()
    rec = _Recorder(cdp)
    cdp.emit("Network.requestWillBeSent", requestId="1", type="Document", timestamp=10.0,
             request={"url": "http://h/login?next=%2F"})
    cdp.emit("Network.requestWillBeSent", requestId="1", type="Document", timestamp=10.1,
             request={"url": "http://h/"}, redirectResponse={"status": 303, "encodedDataLength": 300})
    cdp.emit("Network.responseReceived", **_response(
        "1", timing={"requestTime": 10.1, "receiveHeadersEnd": 150.0}))
    cdp.emit("Network.loadingFinished", requestId="1", encodedDataLength=11_000)
    cdp.emit("Network.requestWillBeSent", requestId="2", type="Stylesheet", request={"url": "http://h/a.css?v=1"})
    cdp.emit("Network.responseReceived", **_response(
        "2", fromServiceWorker=True, serviceWorkerResponseSource="cache-storage", encodedDataLength=0))
    cdp.emit("Network.requestWillBeSent", requestId="3", type="Document", request={"url": "http://h/x"})
    # A page the worker fetched from the network: the page target reports 0 bytes when it finishes.
    cdp.emit("Network.responseReceived", **_response(
        "3", fromServiceWorker=True, serviceWorkerResponseSource="network", encodedDataLength=9_000))
    cdp.emit("Network.requestWillBeSent", requestId="4", type="Image", request={"url": "data:image/png,xx"})
    assert rec.in_flight() == 2  # the stylesheet and the second page have not finished; data: is ignored
    cdp.emit("Network.loadingFinished", requestId="2", encodedDataLength=0)
    cdp.emit("Network.loadingFinished", requestId="3", encodedDataLength=0)
    assert rec.in_flight() == 0

    hop, doc, css, page = rec.hops + list(rec.resources.values())
    assert (hop.path, hop.status, hop.bytes) == ("/login?next=%2F", 303, 300)
    assert (doc.path, doc.bytes, doc.started_s) == ("/", 11_000, 10.1)
    assert doc.headers_s == pytest.approx(10.25)
    assert css.from_service_worker and css.worker_source == "cache-storage" and css.bytes == 0
    assert page.worker_source == "network" and page.bytes == 9_000


def _load(path: str, *, lcp: float, nbytes: int, requests: int, files: tuple[str, ...] = (),
          status: int = 200, controlled: bool = False) -> Load:
    resources = [Resource(path, "Document", nbytes, status)] + [Resource(f, "Script") for f in files]
    return Load(url=path, lcp_ms=lcp, fcp_ms=lcp - 10, ttfb_ms=150.0, load_ms=lcp + 100, lcp_element="h1",
                status=status, controlled=controlled, bytes=nbytes, requests=requests, from_service_worker=0,
                resources=resources)


def _loads(**home: Any) -> dict[tuple[str, str], list[Load]]:
    return {
        ("offline", "cold"): [_load("/offline", lcp=1000, nbytes=100_000, requests=8)] * 3,
        ("offline", "warm"): [_load("/offline", lcp=400, nbytes=2_000, requests=8, controlled=True)] * 3,
        ("home", "cold"): [_load("/", lcp=lcp, nbytes=120_000, requests=10, **home)
                           for lcp in (1500, 1200, 3000)],
        ("home", "warm"): [_load("/", lcp=500, nbytes=12_000, requests=10, controlled=True)] * 3,
    }


def test_rows_are_medians_and_ratios_of_the_same_runs_baseline() -> None:
    loads = _loads()
    rows = [pwa._row(p, s, loads[(p, s)]) for p in pwa.PAGES for s in pwa.STATES]
    pwa._ratios(rows)
    home_cold = next(r for r in rows if (r["page"], r["state"]) == ("home", "cold"))
    assert home_cold["lcp_ms"] == 1500.0 and home_cold["lcp_ms_all"] == [1500, 1200, 3000]
    assert home_cold["ratio_to_baseline"] == {"lcp_ms": 1.5, "fcp_ms": pytest.approx(1490 / 990, abs=1e-3),
                                              "bytes": 1.2, "requests": 1.25}
    assert all(r["ratio_to_baseline"]["lcp_ms"] == 1.0 for r in rows if r["page"] == "offline")
    budgets = pwa._budgets(rows)
    assert budgets["home_cold_lcp_ok"] and budgets["home_cold_bytes_ok"] and budgets["home_warm_lcp_ok"]


def test_budgets_and_checks_report_what_went_wrong() -> None:
    loads = _loads(files=("/static/vendor/axe.min.js?v=1", "/static/vendor/chart.umd.js?v=2"), status=500)
    for load in loads[("home", "cold")]:
        load.lcp_ms, load.bytes = 4000.0, 400 * 1024
    loads[("home", "warm")][0] = _load("/", lcp=500, nbytes=1, requests=1, controlled=False)
    rows = [pwa._row(p, s, loads[(p, s)]) for p in pwa.PAGES for s in pwa.STATES]
    budgets, checks = pwa._budgets(rows), pwa._checks(loads)
    assert not budgets["home_cold_lcp_ok"] and not budgets["home_cold_bytes_ok"]
    assert checks == {"all_loads_200": False, "warm_loads_controlled_by_worker": False,
                      "test_only_scripts_loaded": ["/static/vendor/axe.min.js"],
                      "pages_loading_chart_js": ["home"]}


@pytest.mark.database_independent  # its own SQLite database
def test_the_bench_runs_end_to_end_on_a_tiny_population(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    cfg = pwa.PwaBenchConfig.quick(var_dir=tmp_path, customers=3, history=3)
    with Reporter(quiet=True) as reporter:
        doc = pwa.run(cfg, reporter)
    out = tmp_path / "pwa.json"
    write_json(doc, out)
    again = json.loads(out.read_text())
    assert again == json.loads(json.dumps(doc))
    assert again["benchmark"] == "pwa" and again["database"] == "sqlite" and again["baseline"] == "offline"
    assert {(r["page"], r["state"]) for r in again["results"]} == {
        (p, s) for p in ("offline", "home") for s in ("cold", "warm")
    }
    for r in again["results"]:
        assert r["runs"] == 1
        assert r["lcp_ms"] > 0 and r["fcp_ms"] > 0 and r["requests"] >= 1, r
        assert r["lcp_ms"] >= r["fcp_ms"], r
    by = {(r["page"], r["state"]): r for r in again["results"]}
    assert by[("home", "cold")]["bytes"] > by[("home", "warm")]["bytes"] > 0  # warm: the page alone
    assert by[("home", "warm")]["from_service_worker"] >= 1
    assert by[("offline", "cold")]["ratio_to_baseline"]["bytes"] == 1.0
    assert again["checks"] == {"all_loads_200": True, "warm_loads_controlled_by_worker": True,
                               "test_only_scripts_loaded": [], "pages_loading_chart_js": []}
    assert again["profile"]["latency_ms"] == 150.0 and again["profile"]["cpu_slowdown"] == 4.0
    largest = [r["bytes"] for r in again["home_cold_largest_resources"]]
    assert largest == sorted(largest, reverse=True) and largest[0] > 0
    assert again["worker_install"]["script_bytes"] > 0
    assert pwa_markdown(again).count("\n") == 5 and pwa_table(again).row_count == 4
    assert len(budget_lines(again)) == 7
