"""`atrium bench pwa`: the signed-in home page on a throttled mid-range phone, in Chromium.

The server is the API bench's (`uvicorn atrium.asgi:app`, one worker, a subprocess on loopback) on a
freshly seeded bench database (a SQLite file by default): the reference data every database gets (the
service catalogue, default limits), `customers` bench customers, and `history` transfers in and out of the
measured customer's account so the home page has recent entries to show. A customer signs in once through
the login page in Chromium; every measured load carries that session's cookies.

Two pages, each loaded `runs` times cold and warm, interleaved so a busy moment of the shared machine
hits both alike:
- `offline` — **the baseline**: /offline, the lightest page the app serves (the shell, no data);
- `home` — /, the personalised home page.

Cold: a fresh browser context (empty HTTP cache, no service worker). Warm: the same context after the
first load, once the service worker controls the page and has precached the shell. The phone profile and
what is measured are in `pwa_browser`. Reported per page and state: the median and spread of largest and
first contentful paint, bytes and requests; the home page as ratios of the baseline's medians; the
budgets a bank would set for a mid-range phone (LCP < 2.5 s, < 300 KiB cold); the largest resources of
the home page; and checks: every load answered 200, the warm loads were controlled by the worker, and no
page loaded a test-only or page-specific vendor script it should not (axe-core never; chart.js only on
pages that draw charts).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from atrium.bench import population
from atrium.bench.api import Server
from atrium.bench.population import BenchAccount
from atrium.bench.pwa_browser import PHONE_DPR, PHONE_VIEWPORT, Load, Throttling
from atrium.bench.report import Reporter
from atrium.db.engine import normalise_url

PAGES: dict[str, str] = {"offline": "/offline", "home": "/"}
BASELINE = "offline"
STATES = ("cold", "warm")
BUDGET_LCP_MS = 2500.0
BUDGET_COLD_BYTES = 300 * 1024
NEVER_SERVED = ("axe.min.js",)  # test-only (accessibility audits)
CHART_VENDOR = "chart.umd.js"  # only where a chart is drawn; neither measured page draws one


@dataclass
class PwaBenchConfig:
    runs: int = 5
    customers: int = 50
    history: int = 30
    locale: str = "zh"
    latency_ms: float = 150.0
    download_kbps: float = 1638.4
    upload_kbps: float = 750.0
    cpu_slowdown: float = 4.0
    database_url: str | None = None  # default: var/bench/bench-pwa.db (emptied)
    chromium: str = "/usr/bin/chromium"
    var_dir: Path = Path("var/bench")

    @classmethod
    def quick(cls, **overrides: Any) -> PwaBenchConfig:
        """Seconds, not minutes: the harness end to end (figures are indicative only)."""
        base: dict[str, Any] = dict(runs=1, customers=4, history=4)
        return cls(**(base | overrides))

    def throttling(self) -> Throttling:
        return Throttling(self.latency_ms, self.download_kbps, self.upload_kbps, self.cpu_slowdown)


def _database_url(cfg: PwaBenchConfig) -> str:
    if cfg.database_url:
        return cfg.database_url
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    return population.sqlite_url(cfg.var_dir.resolve(), "pwa")


def _seed(db: Any, cfg: PwaBenchConfig) -> BenchAccount:
    """The population; returns the customer whose home page is measured."""
    from atrium import bootstrap
    from atrium.bench.ledger import transfer_work

    db.run(bootstrap.reference_data)  # the catalogue the home page is assembled from, default limits
    population.raise_bank_limits(db)
    accounts = population.seed_customers(db, max(cfg.customers, 2), prefix="pwa")
    who, others = accounts[0], accounts[1:]
    for k in range(cfg.history):
        other = others[k % len(others)]
        src, dst = (who, other) if k % 2 else (other, who)
        db.run(transfer_work(src, dst, 1_000 + 37 * k, f"pwa-history-{k}"))
    return who


def _sign_in(browser: Any, base_url: str, who: BenchAccount, locale: str) -> list[dict[str, Any]]:
    """Sign in through the login page, as the customer would; the session's cookies."""
    from atrium.bench.pwa_browser import new_phone_context

    context = new_phone_context(browser, base_url, locale=locale, cookies=[])
    try:
        page = context.new_page()
        page.goto("/login")
        page.locator("#username").fill(who.username)
        page.locator("#password").fill(population.BENCH_PASSWORD)
        page.locator('form[action="/login"] button[type=submit]').click()
        page.wait_for_url(f"{base_url}/", timeout=30_000)
        return context.cookies()
    finally:
        context.close()


def _samples(browser: Any, base_url: str, cfg: PwaBenchConfig, cookies: list[dict[str, Any]],
             reporter: Reporter) -> dict[tuple[str, str], list[Load]]:
    from atrium.bench.pwa_browser import measure, new_phone_context, wait_for_service_worker

    loads: dict[tuple[str, str], list[Load]] = {(p, s): [] for p in PAGES for s in STATES}
    throttling = cfg.throttling()
    for _ in range(cfg.runs):
        for name, path in PAGES.items():
            reporter.start(f"PWA {name}, cold and warm")
            context = new_phone_context(browser, base_url, locale=cfg.locale, cookies=cookies)
            try:
                page = context.new_page()
                loads[(name, "cold")].append(measure(page, path, throttling))
                reporter.tick(0.5)
                wait_for_service_worker(page)
                loads[(name, "warm")].append(measure(page, path, throttling))
            finally:
                context.close()
            reporter.done()
    return loads


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def _row(page: str, state: str, loads: list[Load]) -> dict[str, Any]:
    def spread(attr: str) -> list[float | None]:
        return [getattr(x, attr) for x in loads]

    return {
        "page": page, "path": PAGES[page], "state": state, "runs": len(loads),
        "lcp_ms": _median(spread("lcp_ms")), "fcp_ms": _median(spread("fcp_ms")),
        "ttfb_ms": _median(spread("ttfb_ms")), "load_ms": _median(spread("load_ms")),
        "bytes": _median(spread("bytes")), "requests": _median(spread("requests")),
        "from_service_worker": _median(spread("from_service_worker")),
        "lcp_ms_all": spread("lcp_ms"), "fcp_ms_all": spread("fcp_ms"), "bytes_all": spread("bytes"),
        "lcp_element": loads[0].lcp_element if loads else None,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _ratios(rows: list[dict[str, Any]]) -> None:
    base = {r["state"]: r for r in rows if r["page"] == BASELINE}
    for r in rows:
        b = base[r["state"]]
        r["ratio_to_baseline"] = {k: _ratio(r[k], b[k]) for k in ("lcp_ms", "fcp_ms", "bytes", "requests")}


def _checks(loads: dict[tuple[str, str], list[Load]]) -> dict[str, Any]:
    every = [x for xs in loads.values() for x in xs]
    loaded = {key: {r.path.split("?")[0] for x in xs for r in x.resources} for key, xs in loads.items()}
    never = sorted({path for paths in loaded.values() for path in paths if path.endswith(NEVER_SERVED)})
    charts = sorted({p for (p, _), paths in loaded.items() if any(x.endswith(CHART_VENDOR) for x in paths)})
    return {
        "all_loads_200": all(x.status == 200 for x in every),
        "warm_loads_controlled_by_worker": all(x.controlled for (_, s), xs in loads.items() if s == "warm"
                                               for x in xs),
        "test_only_scripts_loaded": never,
        "pages_loading_chart_js": charts,
    }


def _budgets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    home = {r["state"]: r for r in rows if r["page"] == "home"}
    cold, warm = home["cold"], home["warm"]
    return {
        "lcp_ms_limit": BUDGET_LCP_MS, "cold_bytes_limit": BUDGET_COLD_BYTES,
        "home_cold_lcp_ok": cold["lcp_ms"] is not None and cold["lcp_ms"] < BUDGET_LCP_MS,
        "home_warm_lcp_ok": warm["lcp_ms"] is not None and warm["lcp_ms"] < BUDGET_LCP_MS,
        "home_cold_bytes_ok": cold["bytes"] is not None and cold["bytes"] < BUDGET_COLD_BYTES,
    }


def _largest(loads: list[Load], n: int = 12) -> list[dict[str, Any]]:
    """The first cold load's resources, largest first: where the bytes go."""
    if not loads:
        return []
    return [{"path": r.path, "type": r.type, "bytes": r.bytes, "status": r.status,
             "from_service_worker": r.from_service_worker} for r in loads[0].resources[:n]]


def _worker_install(base_url: str, loads: dict[tuple[str, str], list[Load]]) -> dict[str, Any]:
    """What installing the service worker adds to a first visit, after the page's own load: the worker
    script and the shell files the page had not already loaded (those come from the HTTP cache). The
    worker's requests are not the page target's, so this is priced from the server's answers."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        script = client.get("/sw.js")
        match = re.search(r"const SHELL = (\[.*?\]);", script.text)
        shell: list[str] = json.loads(match.group(1)) if match else []
        sizes = {u: len(client.get(u).content) for u in shell}
    out: dict[str, Any] = {"script_bytes": len(script.content), "shell": sizes}
    for page in PAGES:
        cold = loads[(page, "cold")]
        seen = {r.path for r in cold[0].resources} if cold else set()
        out[f"{page}_extra_bytes"] = len(script.content) + sum(n for u, n in sizes.items() if u not in seen)
    return out


def run(cfg: PwaBenchConfig, reporter: Reporter) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not Path(cfg.chromium).exists():
        raise RuntimeError(f"{cfg.chromium} is missing: apt-get install chromium (or pass --chromium PATH)")
    started = time.time()
    url = _database_url(cfg)
    db = population.fresh_database(url)
    try:
        backend = make_url(normalise_url(url)).get_backend_name()
        reporter.phase(f"PWA: seeding {cfg.customers} customers and {cfg.history} transfers on {backend}")
        who = _seed(db, cfg)
    finally:
        db.dispose()
    reporter.plan(cfg.runs * len(PAGES))
    server = Server(url, cfg.var_dir / "pwa-server.log")
    try:
        server.wait_ready()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=cfg.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                              "--disable-background-networking", "--disable-component-update",
                                              "--disable-sync"])
            try:
                chromium_version = browser.version
                cookies = _sign_in(browser, server.base_url, who, cfg.locale)
                loads = _samples(browser, server.base_url, cfg, cookies, reporter)
                install = _worker_install(server.base_url, loads)
            finally:
                browser.close()
    finally:
        server.stop()
    rows = [_row(page, state, loads[(page, state)]) for page in PAGES for state in STATES]
    _ratios(rows)
    config = asdict(replace(cfg, database_url=None))
    config["var_dir"] = str(cfg.var_dir)
    return {
        "benchmark": "pwa", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": reporter.machine(), "config": config,
        "database": backend, "server": "uvicorn, 1 worker", "chromium": chromium_version,
        "profile": {"viewport": PHONE_VIEWPORT, "device_scale_factor": PHONE_DPR,
                    **asdict(cfg.throttling())},
        "baseline": BASELINE, "results": rows, "budgets": _budgets(rows),
        "home_cold_largest_resources": _largest(loads[("home", "cold")]),
        "worker_install": install,
        "checks": _checks(loads),
    }
