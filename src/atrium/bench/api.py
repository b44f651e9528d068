"""`atrium bench api`: the real server under 64 concurrent connections, loopback only.

The server is `uvicorn atrium.asgi:app` with one worker in a subprocess, against a freshly seeded bench
database (PostgreSQL when reachable, else a SQLite WAL file). An async httpx load generator in this
process (the minimal HTTP/1.1 client of `bench.http1` by default, or httpx) keeps `connections`
keep-alive connections busy, each one a signed-in bench customer:

- `GET /api/v1/health` — a trivial JSON endpoint: the baseline (same server, same worker count);
- `POST /api/v1/transfers` — a transfer to another customer's account number, with a fresh
  `Idempotency-Key` per request (authentication, ownership, limits, ledger, outbox, idempotency store);
- `GET /` — the personalised home page of the mobile web app (balances and recent entries).

Each endpoint is measured for a fixed time after a warm-up; reported: req/s, the ratio to the trivial
endpoint's req/s, p50/p99 latency, and how much CPU the server and the generator used (the generator
shares the machine, so its share is part of the honest picture). After the run every 201 transfer id is
looked up in the database: an answered transfer must have been committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from atrium import bootstrap
from atrium.bench import population
from atrium.bench.http1 import Http1Connection
from atrium.bench.load import percentile
from atrium.bench.population import BenchAccount
from atrium.bench.report import Reporter, round_or_none
from atrium.bench.window import Window
from atrium.db.engine import normalise_url


@dataclass
class ApiBenchConfig:
    connections: int = 64
    seconds: float = 10.0
    warmup: float = 2.0
    customers: int = 200  # transfer destinations; the first `connections` of them are signed in
    database_url: str | None = None  # default: the PostgreSQL bench server, else SQLite
    endpoints: tuple[str, ...] = ("trivial", "transfer", "home")
    generator: str = "raw"  # raw: bench.http1 (cheap), httpx: the full client
    var_dir: Path = Path("var/bench")

    @classmethod
    def quick(cls, **overrides: Any) -> ApiBenchConfig:
        base: dict[str, Any] = dict(connections=8, seconds=1.0, warmup=0.3, customers=20)
        return cls(**(base | overrides))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api_url(cfg: ApiBenchConfig) -> str:
    if cfg.database_url:
        return cfg.database_url
    pg = population.pg_url()
    if population.postgres_reachable(pg) is None:
        u = make_url(normalise_url(pg))
        return u.set(database=f"{u.database}_api").render_as_string(hide_password=False)
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    return population.sqlite_url(cfg.var_dir.resolve(), "api")


class Server:
    """uvicorn in a subprocess on a free loopback port."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, ATRIUM_DATABASE_URL=database_url, ATRIUM_LOG_LEVEL="WARNING",
                   ATRIUM_ENV="development")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "uvicorn", "atrium.asgi:app", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self._log.name}")
            try:
                if httpx.get(self.base_url + "/api/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # a start takes seconds; polling finds it within 50 ms
        raise RuntimeError("the server did not answer /api/v1/health in time")

    def cpu_seconds(self) -> float:
        """utime + stime of the server process, from /proc (Linux)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()


@dataclass
class Phase:
    endpoint: str
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float
    generator_cpu_s: float
    first_error: str | None


def _sessions(db, accounts: list[BenchAccount]) -> list[str]:  # type: ignore[no-untyped-def]
    """A level-2 session (password + SMS code, as the app's sign-in gives) per connection, opened through
    the sessions service: this bench measures the transfer and home paths; signing in has its own bench
    (`atrium bench auth`), and a thousand SMS sign-ins from one address would meet the rate limits."""
    from atrium.identity import sessions

    with db.unit_of_work() as session:
        return [sessions.open_session(session, customer_id=a.customer_id, amr=["pwd", "sms"], client="api",
                                      ttl_s=3600)[0] for a in accounts]


def _request(endpoint: str, i: int, tokens: list[str], accounts: list[BenchAccount],
             rng: random.Random) -> tuple[str, str, dict[str, str], Any]:
    if endpoint == "trivial":
        return "GET", "/api/v1/health", {}, None
    auth = {"Authorization": f"Bearer {tokens[i]}"}
    if endpoint == "home":
        return "GET", "/", auth | {"Accept-Language": "en"}, None
    j = rng.randrange(len(accounts) - 1)
    dst = accounts[j + 1 if j >= i else j]  # anyone but the payer
    body = {"from_account_id": accounts[i].account_id,
            "to": {"type": "atrium", "account_number": dst.number},
            "amount_minor": rng.randint(1, 10_000), "currency": "CNY"}
    return "POST", "/api/v1/transfers", auth | {"Idempotency-Key": uuid.uuid4().hex}, body


class _Generator:
    """Connection `i` of the load: the minimal HTTP/1.1 client (default) or httpx."""

    def __init__(self, kind: str, server: Server, connections: int) -> None:
        self.kind = kind
        self._raw = [Http1Connection("127.0.0.1", server.port) for _ in range(connections)]
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._httpx = httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60.0)

    async def send(
        self, i: int, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, bytes]:
        if self.kind == "raw":
            reply = await self._raw[i].request(method, path, headers=headers, json_body=body)
            return reply.status_code, reply.body
        r = await self._httpx.request(method, path, headers=headers, json=body)
        return r.status_code, r.content

    async def close(self) -> None:
        for c in self._raw:
            await c.close()
        await self._httpx.aclose()


async def _phase(gen: _Generator, server: Server, endpoint: str, cfg: ApiBenchConfig,
                 tokens: list[str], accounts: list[BenchAccount], transfer_ids: list[tuple[str, str]],
                 reporter: Reporter) -> Phase:
    loop = asyncio.get_running_loop()
    window = Window(cfg.warmup, cfg.seconds)
    lat: list[float] = []
    counts = {"ok": 0, "errors": 0}
    first_error: list[str] = []

    async def worker(i: int) -> None:
        rng = random.Random(f"{endpoint}:{i}")
        while not window.closed:
            now = loop.time()
            method, path, headers, body = _request(endpoint, i, tokens, accounts, rng)
            try:
                status, content = await gen.send(i, method, path, headers, body)
                ok = 200 <= status < 300
                detail = "" if ok else f"{status} {content[:200].decode('utf-8', 'replace')}"
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError) as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            done = loop.time()
            if ok and endpoint == "transfer":
                transfer_ids.append((accounts[i].customer_id, json.loads(content)["id"]))
            if window.measures(done):
                if ok:
                    counts["ok"] += 1
                    lat.append((done - now) * 1000.0)
                else:
                    counts["errors"] += 1
            if not ok and not first_error:
                first_error.append(detail)

    await asyncio.gather(window.clock(server.cpu_seconds, reporter),
                         *(worker(i) for i in range(cfg.connections)))
    return Phase(endpoint, counts["ok"], counts["errors"], window.elapsed, lat,
                 window.server_cpu_s, window.generator_cpu_s, first_error[0] if first_error else None)


async def _drive(server: Server, cfg: ApiBenchConfig, accounts: list[BenchAccount], tokens: list[str],
                 reporter: Reporter) -> tuple[list[Phase], list[tuple[str, str]]]:
    gen = _Generator(cfg.generator, server, cfg.connections)
    try:
        phases: list[Phase] = []
        ids: list[tuple[str, str]] = []
        for endpoint in cfg.endpoints:
            reporter.start(f"API {endpoint}, {cfg.connections} connections")
            phases.append(await _phase(gen, server, endpoint, cfg, tokens, accounts, ids, reporter))
            reporter.done()
        return phases, ids
    finally:
        await gen.close()


def _committed(db, answered: list[tuple[str, str]]) -> int:  # type: ignore[no-untyped-def]
    """How many of the transfers answered 201 the database has (through the payments service)."""
    from atrium.payments import service as payments
    from atrium.payments.errors import TransferNotFound

    found = 0
    with db.read_session() as session:
        for customer_id, transfer_id in answered:
            try:
                payments.get_transfer(session, customer_id=customer_id, transfer_id=transfer_id)
            except TransferNotFound:
                continue
            found += 1
    return found


def run(cfg: ApiBenchConfig, reporter: Reporter) -> dict[str, Any]:
    return run_each([cfg], reporter)[0]


def run_each(cfgs: list[ApiBenchConfig], reporter: Reporter) -> list[dict[str, Any]]:
    """Several runs, one after another, against one server on one freshly seeded database: the first
    configuration's database, and customers enough for every run. Each run's document is what `run` gives
    for it alone (the checks after the server stopped, for that run's transfers). The smoke tests measure
    both generators this way: one server start (seconds of imports) instead of one per run."""
    started = time.time()
    first = cfgs[0]
    url = _api_url(first)
    db = population.fresh_database(url)
    runs: list[tuple[list[Phase], list[tuple[str, str]]]] = []
    try:
        backend = make_url(normalise_url(url)).get_backend_name()
        customers = max(max(c.customers, c.connections + 2) for c in cfgs)
        reporter.phase(f"API: seeding {customers} customers on {backend}")
        db.run(bootstrap.reference_data)  # the catalogue the home is built from, as `atrium migrate` writes
        population.raise_bank_limits(db)
        accounts = population.seed_customers(db, customers, prefix="api")
        reporter.plan(sum(len(c.endpoints) for c in cfgs))
        server = Server(url, first.var_dir / "api-server.log")
        try:
            server.wait_ready()
            for cfg in cfgs:
                tokens = _sessions(db, accounts[: cfg.connections])
                runs.append(asyncio.run(_drive(server, cfg, accounts, tokens, reporter)))
        finally:
            server.stop()
        committed = [_committed(db, ids) for _, ids in runs]
        ok_check, detail = population.ledger_consistent(db)
    finally:
        db.dispose()
    return [_document(cfg, phases, ids, found, (ok_check, detail), backend, started)
            for cfg, (phases, ids), found in zip(cfgs, runs, committed, strict=True)]


def _document(cfg: ApiBenchConfig, phases: list[Phase], ids: list[tuple[str, str]], committed: int,
              check: tuple[bool, str], backend: str, started: float) -> dict[str, Any]:
    ok_check, detail = check
    trivial = next((p for p in phases if p.endpoint == "trivial"), None)
    base_rps = trivial.ok / trivial.seconds if trivial else None
    results = []
    for p in phases:
        rps = p.ok / p.seconds
        results.append({
            "endpoint": p.endpoint, "req_per_s": round(rps, 1),
            "ratio_to_trivial": round(rps / base_rps, 4) if base_rps else None,
            "p50_ms": round_or_none(percentile(p.latencies_ms, 50)),
            "p99_ms": round_or_none(percentile(p.latencies_ms, 99)), "ok": p.ok, "errors": p.errors,
            "server_cpu_share": round(p.server_cpu_s / p.seconds, 2),
            "generator_cpu_share": round(p.generator_cpu_s / p.seconds, 2), "first_error": p.first_error,
        })
    config = asdict(cfg)
    config["var_dir"], config["database_url"] = str(cfg.var_dir), None
    return {
        "benchmark": "api", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": Reporter.machine(), "config": config,
        "database": backend, "server": "uvicorn, 1 worker",
        "generator": cfg.generator,
        "results": results,
        "checks": {"transfers_answered_201": len(ids), "transfers_found_committed": committed,
                   "answered_implies_committed": committed == len(ids), "ledger_check_ok": ok_check,
                   "ledger_check": detail},
    }
