"""`atrium bench risk`: card authorisations through the HTTP decision API vs a trivial endpoint, same run.

For each database × configuration × worker count, one server — `atrium serve --app <app>` (default
`atrium.asgi:app`; workers with their own listening sockets, see atrium.serving)
with N workers in a subprocess on loopback — and one load generator (the minimal HTTP/1.1 client of
`bench.http1`, `connections` keep-alive connections, one request in flight each) measure, in this order
on the same server and connections:

- `trivial` — `GET /api/v1/health`: the baseline;
- `decide` — `POST /api/v1/risk/decisions` with a channel key: a card authorisation with a fresh
  transaction id each time, through the real decision path (features, lists, rules, the bootstrapped
  champion model and its challenger slot, the decision log's group commit).

Traffic: the card/terminal/amount stream of the Fraud Detection Handbook's transactions when the file is
there (`--data`, default ../shared/data/fraud-handbook), cycled in time order — so cards and terminals
recur as in card traffic — else a synthetic stream with the same shape (5,000 cards, 10,000 terminals).

Correctness, per decision: after each server stops, every decision answered 201/200 is looked up in
`risk_decisions`; the run is correct when each one is there with the answered outcome (`answered_logged`).
Configurations: `strict` — the service's defaults (the risk revision and the other processes' decisions
are read before every decision); `tuned` — `risk.revision_ttl_ms=1000`, `risk.state_refresh_ms=20` (a rule,
list or model change reaches a worker within 1 s, another worker's decisions within 20 ms).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url

from atrium.bench import population
from atrium.bench.api import free_port
from atrium.bench.http1 import Http1Connection
from atrium.bench.load import percentile
from atrium.bench.report import Reporter, round_or_none
from atrium.bench.risk_api_server import RiskServer
from atrium.bench.window import Window
from atrium.db.engine import normalise_url
from atrium.db.session import Database

CONFIGS: dict[str, dict[str, str]] = {
    "strict": {},
    "tuned": {"ATRIUM_RISK__REVISION_TTL_MS": "1000", "ATRIUM_RISK__STATE_REFRESH_MS": "20"},
}
DEFAULT_DATA = Path("../shared/data/fraud-handbook")
PG_SUFFIX = "_risk"
DECISIONS = "/api/v1/risk/decisions"


@dataclass
class RiskApiBenchConfig:
    connections: int = 64
    seconds: float = 10.0
    warmup: float = 3.0
    workers: tuple[int, ...] = (1, 2)
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    configs: tuple[str, ...] = ("strict", "tuned")
    database_url: str | None = None  # one database instead of `databases` (it is emptied)
    app: str = "atrium.asgi:app"
    data: Path | None = DEFAULT_DATA
    traffic_rows: int = 200_000
    warm_rows: int = 30_000  # untimed decisions first (see _warm)
    model: bool = True  # bootstrap a champion (the cold-start model) so the model is in the path
    var_dir: Path = Path("var/bench")

    @classmethod
    def quick(cls, **overrides: Any) -> RiskApiBenchConfig:
        base: dict[str, Any] = dict(connections=8, seconds=1.0, warmup=0.5, workers=(1,),
                                    databases=("sqlite",), configs=("tuned",), data=None, traffic_rows=2_000,
                                    warm_rows=100, model=False)
        return cls(**(base | overrides))


@dataclass
class Phase:
    endpoint: str
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0
    first_error: str | None = None
    answered: list[tuple[str, str]] = field(default_factory=list)  # (decision id, outcome)
    wall_s: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    fallbacks: int = 0  # answered by the channel's fail policy (the engine did not answer in time)
    seconds: float = 0.0  # how long the measured window was open (`bench.window`)


# --- traffic ---------------------------------------------------------------------------------------------


def traffic(cfg: RiskApiBenchConfig) -> tuple[list[dict[str, Any]], str]:
    """Card authorisations (without transaction ids) and where they came from."""
    if cfg.data is not None and cfg.data.exists():
        from atrium.risk.benchmark.data import read_transactions

        tx = read_transactions(cfg.data)
        n = min(cfg.traffic_rows, len(tx))
        rows = [{"card_ref": f"hb-card-{tx.customer[i]}", "customer_ref": f"hb-cust-{tx.customer[i]}",
                 "terminal_id": f"hb-term-{tx.terminal[i]}", "amount_minor": int(round(tx.amount[i] * 100))}
                for i in range(n)]
        return rows, f"fraud-handbook: first {n} of {len(tx)} rows ({tx.source}, sha256 {tx.sha256[:12]})"
    rng = random.Random(7)
    rows = []
    for _ in range(cfg.traffic_rows):
        card = rng.randrange(5_000)
        rows.append({"card_ref": f"syn-card-{card}", "customer_ref": f"syn-cust-{card}",
                     "terminal_id": f"syn-term-{rng.randrange(10_000)}",
                     "amount_minor": int(rng.lognormvariate(3.8, 0.9) * 100)})
    return rows, f"synthetic: {cfg.traffic_rows} authorisations, 5,000 cards, 10,000 terminals"


# --- one server's phases -----------------------------------------------------------------------------------


class Stream:
    """The traffic in order, shared by every connection (so cards and terminals recur as they did), each
    authorisation with a fresh transaction id."""

    def __init__(self, rows: list[dict[str, Any]], tag: str) -> None:
        self.rows, self.tag, self.next = rows, tag, 0

    def take(self) -> dict[str, Any]:
        n, self.next = self.next, self.next + 1
        row = self.rows[n % len(self.rows)]
        return row | {"channel": "card", "transaction_id": f"{self.tag}-{n}", "currency": "CNY"}


async def _warm(conns: list[Http1Connection], key: str, stream: Stream, rows: int, phase: Phase) -> None:
    """Untimed decisions until `rows` were answered: every worker's feature state loads the stream's cards
    and terminals from the log, as a long-running server has them (the measured rows then meet mostly
    known entities, and now and then a new one, as card traffic does)."""
    auth = {"Authorization": f"Bearer {key}"}

    async def worker(i: int) -> None:
        while stream.next < rows:
            reply = await conns[i].request("POST", DECISIONS, headers=auth, json_body=stream.take())
            if reply.status_code in (200, 201):
                answer = reply.json()
                phase.answered.append((answer["id"], answer["outcome"]))
                phase.fallbacks += bool(answer["fallback"])
            elif phase.first_error is None:
                phase.first_error = f"{reply.status_code} {reply.text[:200]}"

    await asyncio.gather(*(worker(i) for i in range(len(conns))))


async def _phase(conns: list[Http1Connection], endpoint: str, cfg: RiskApiBenchConfig, server: RiskServer,
                 key: str, stream: Stream, reporter: Reporter) -> Phase:
    loop = asyncio.get_running_loop()
    window = Window(cfg.warmup, cfg.seconds)
    phase = Phase(endpoint)
    auth = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}

    async def worker(i: int) -> None:
        while not window.closed:
            now = loop.time()
            if endpoint == "trivial":
                method, path, headers, body = "GET", "/api/v1/health", {}, None
            else:
                method, path, headers, body = "POST", DECISIONS, auth, stream.take()
            try:
                reply = await conns[i].request(method, path, headers=headers, json_body=body)
                ok = reply.status_code in (200, 201)
                detail = "" if ok else f"{reply.status_code} {reply.text[:200]}"
            except (OSError, asyncio.IncompleteReadError) as exc:
                ok, detail, reply = False, f"{type(exc).__name__}: {exc}", None
            done = loop.time()
            measured = window.measures(done)
            if ok and body is not None and reply is not None:
                answer = reply.json()
                phase.answered.append((answer["id"], answer["outcome"]))
                if measured:
                    phase.outcomes[answer["outcome"]] = phase.outcomes.get(answer["outcome"], 0) + 1
                    phase.fallbacks += bool(answer["fallback"])
            if measured:
                if ok:
                    phase.ok += 1
                    phase.latencies_ms.append((done - now) * 1000.0)
                else:
                    phase.errors += 1
            if not ok and phase.first_error is None:
                phase.first_error = detail

    await asyncio.gather(window.clock(server.cpu_seconds, reporter),
                         *(worker(i) for i in range(len(conns))))
    phase.seconds = window.elapsed
    phase.server_cpu_s = window.server_cpu_s
    phase.generator_cpu_s = window.generator_cpu_s
    return phase


async def _drive(server: RiskServer, cfg: RiskApiBenchConfig, key: str, stream: Stream, label: str,
                 reporter: Reporter) -> tuple[list[Phase], Phase]:
    conns = [Http1Connection("127.0.0.1", server.port) for _ in range(cfg.connections)]
    try:
        warm = Phase("warm")
        reporter.start(f"{label}: warming the feature state ({cfg.warm_rows} decisions)")
        started = time.monotonic()
        await _warm(conns, key, stream, cfg.warm_rows, warm)
        warm.wall_s = time.monotonic() - started
        reporter.done()
        phases = []
        for endpoint in ("trivial", "decide"):
            reporter.start(f"{label}: {endpoint}")
            phases.append(await _phase(conns, endpoint, cfg, server, key, stream, reporter))
            reporter.done()
        return phases, warm
    finally:
        for c in conns:
            await c.close()


# --- databases ---------------------------------------------------------------------------------------------


def _urls(cfg: RiskApiBenchConfig) -> tuple[dict[str, str], dict[str, str]]:
    if cfg.database_url:
        return {make_url(normalise_url(cfg.database_url)).get_backend_name(): cfg.database_url}, {}
    urls, skipped = {}, {}
    for name in cfg.databases:
        if name == "sqlite":
            cfg.var_dir.mkdir(parents=True, exist_ok=True)
            urls[name] = population.sqlite_url(cfg.var_dir.resolve(), "risk-api")
        elif name == "postgresql":
            pg = population.pg_url()
            why = population.postgres_reachable(pg)
            if why is None:
                u = make_url(normalise_url(pg))
                urls[name] = u.set(database=f"{u.database}{PG_SUFFIX}").render_as_string(hide_password=False)
            else:
                skipped[name] = why
        else:
            raise ValueError(f"unknown database {name!r}: sqlite or postgresql")
    return urls, skipped


def _prepare(url: str, model: bool) -> tuple[Database, str, str | None]:
    """A fresh database with the reference data, a champion model (if asked) and a card-network client."""
    from atrium import bootstrap
    from atrium.db import runtime
    from atrium.risk import channel_clients
    from atrium.risk import service as risk

    db = population.fresh_database(url)
    db.run(bootstrap.reference_data)
    runtime.set_db(db)  # the risk service's caches and its model loader use the process's database
    version = db.run(lambda s: risk.bootstrap_model(s).version) if model else None
    _client, key = db.run(lambda s: channel_clients.issue(s, name="bench card network", channels=["card"],
                                                           created_by="bench"))
    return db, key, version


def _truncate_log(db: Database) -> None:
    """Start each server on an empty decision log (same history for every row of the table)."""
    tables = ("risk_case_actions", "risk_cases", "risk_labels", "risk_decisions")
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in tables:
                conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        else:  # PostgreSQL's append-only triggers refuse DELETE on case actions and labels
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")


def logged(db: Database, answered: list[tuple[str, str]]) -> tuple[int, int]:
    """(answered decisions found in the log, found with another outcome than answered)."""
    found = mismatched = 0
    query = text("SELECT id, outcome FROM risk_decisions WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True))
    with db.engine.connect() as conn:
        for i in range(0, len(answered), 500):
            chunk = dict(answered[i:i + 500])
            for decision_id, outcome in conn.execute(query, {"ids": list(chunk)}):
                found += 1
                mismatched += outcome != chunk[decision_id]
    return found, mismatched


# --- the run -----------------------------------------------------------------------------------------------


def _row(database: str, config: str, workers: int, p: Phase, base_rps: float | None) -> dict[str, Any]:
    seconds = p.seconds
    rps = p.ok / seconds
    decide = p.endpoint == "decide"
    return {
        "database": database, "config": config, "workers": workers, "endpoint": p.endpoint,
        "req_per_s": round(rps, 1), "ratio_to_trivial": round(rps / base_rps, 4) if base_rps else None,
        "p50_ms": round_or_none(percentile(p.latencies_ms, 50)),
        "p99_ms": round_or_none(percentile(p.latencies_ms, 99)), "ok": p.ok, "errors": p.errors,
        "server_cpu_share": round(p.server_cpu_s / seconds, 2),
        "generator_cpu_share": round(p.generator_cpu_s / seconds, 2), "first_error": p.first_error,
        "outcomes": p.outcomes or None,
        # Decisions the engine made (not the fail policy): the figure that counts.
        "engine_decisions_per_s": round((p.ok - p.fallbacks) / seconds, 1) if decide else None,
        "fallback_share": round(p.fallbacks / p.ok, 4) if decide and p.ok else None,
    }


def run(cfg: RiskApiBenchConfig, reporter: Reporter) -> dict[str, Any]:
    from atrium.db import runtime

    started = time.time()
    urls, skipped = _urls(cfg)
    stream, source = traffic(cfg)
    reporter.plan(len(urls) * len(cfg.configs) * len(cfg.workers) * 2)
    results: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    for database, url in urls.items():
        reporter.phase(f"risk API: preparing {database} (bootstrap model: {cfg.model})")
        db, key, version = _prepare(url, cfg.model)
        meta[database] = {"model_version": version}
        try:
            for config in cfg.configs:
                for workers in cfg.workers:
                    _truncate_log(db)
                    label = f"{database} {config} {workers}w"
                    server = RiskServer(cfg.app, url, workers, CONFIGS[config], free_port(),
                                        cfg.var_dir / f"risk-api-{database}-{config}-{workers}.log")
                    try:
                        server.wait_ready()
                        tag = f"{config}{workers}-{int(time.time() * 1000) % 10**8}"
                        phases, warm = asyncio.run(_drive(server, cfg, key, Stream(stream, tag), label,
                                                          reporter))
                    finally:
                        server.stop()
                    base = phases[0].ok / phases[0].seconds if phases[0].ok else None
                    results += [_row(database, config, workers, p, base) for p in phases]
                    answered = warm.answered + phases[1].answered
                    found, mismatched = logged(db, answered)
                    checks.append({"database": database, "config": config, "workers": workers,
                                   "warm_decisions": len(warm.answered), "warm_s": round(warm.wall_s, 1),
                                   "warm_fallbacks": warm.fallbacks,
                                   "warm_error": warm.first_error, "answered": len(answered), "logged": found,
                                   "outcome_mismatches": mismatched,
                                   "answered_logged": found == len(answered) and mismatched == 0})
        finally:
            runtime.set_db(None)
            db.dispose()
    config_doc = asdict(cfg)
    config_doc.update(var_dir=str(cfg.var_dir), data=str(cfg.data) if cfg.data else None, database_url=None,
                      server_env=CONFIGS)
    return {
        "benchmark": "risk-api", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": reporter.machine(), "config": config_doc,
        "traffic": source, "generator": "raw (bench.http1)", "databases": meta, "skipped": skipped,
        "results": results, "checks": checks,
        "all_answered_logged": all(c["answered_logged"] for c in checks),
    }
