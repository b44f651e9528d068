"""`atrium bench auth`: sign-ins and token refreshes per second over HTTP, against the trivial endpoint.

The server is the API bench's (`uvicorn atrium.asgi:app`, one worker, a subprocess on loopback) against a
freshly built bench database. Each measured operation is what a phone does (see `bench.auth_client`):

- `trivial` — `GET /api/v1/health`: the baseline (same server, same worker, same connections);
- `sign-in` — `POST /api/v1/auth/login` from a trusted device: argon2id verify of the password, the device
  key's ECDSA P-256 signature over a fresh server nonce (fetched with `GET /api/v1/auth/device-nonce` just
  before, not timed), the nonce spent, a level-2 session opened, the sign-in recorded;
- `two-step` — a device that is not trusted: password (→ ticket), SMS code texted to the outbox, code read
  back by the bench, code checked (→ level 2). Three requests and a database read, timed together;
- `refresh` — `POST /oauth2/token`, `grant_type=refresh_token` of the public client "atrium-mobile": each
  answer rotates the refresh token, the next request uses the new one.

Passwords are hashed with the server's real parameters: the bench signs one customer in through the server
(which rehashes with its own argon2 parameters), reads that hash back and gives it to every bench customer;
the parameters are read from it and reported (`bench.auth_argon2` then measures them next to other sets).
The server's sign-in rate limits are raised (environment) so no attempt is refused, but each attempt is still
counted in the database as usual; every connection comes from its own loopback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from atrium.bench import auth_argon2, auth_client, population
from atrium.bench.api import Server
from atrium.bench.auth_client import BenchCustomer, Connection, DeviceKey, FlowFailed
from atrium.bench.auth_setup import first_refresh_token, seed_customers, server_hash
from atrium.bench.load import percentile
from atrium.bench.report import Reporter, round_or_none
from atrium.bench.window import Window
from atrium.db.engine import normalise_url
from atrium.db.session import Database

FLOWS = ("trivial", "sign-in", "two-step", "refresh")
PASSWORD = population.BENCH_PASSWORD
# The bench raises the sign-in limits of the server it starts: it signs in far more often from one machine
# than any customer may (the limits are still checked and every hit recorded).
RAISED_LIMITS = {
    "ATRIUM_PROTECTION__LOGIN_IP_LIMIT": "1000000000",
    "ATRIUM_PROTECTION__LOGIN_USER_LIMIT": "1000000000",
    "ATRIUM_PROTECTION__SMS_IP_LIMIT": "1000000000",
}
THREADPOOL = 40  # anyio's default: FastAPI runs sync endpoints (every sign-in) on at most 40 threads


@dataclass
class AuthBenchConfig:
    concurrency: tuple[int, ...] = (16, 64)
    seconds: float = 6.0
    warmup: float = 2.0
    flows: tuple[str, ...] = FLOWS
    databases: tuple[str, ...] = ("sqlite",)
    database_url: str | None = None  # one database instead of `databases`
    device_customers: int = 256  # customers with a trusted device (sign-in, refresh)
    two_step_customers: int = 400  # per concurrency level: each signs in once (one SMS code a minute a phone)
    argon2: bool = True
    argon2_repeats: int = 7
    argon2_seconds: float = 2.0
    var_dir: Path = Path("var/bench")

    @classmethod
    def quick(cls, **overrides: Any) -> AuthBenchConfig:
        base: dict[str, Any] = dict(concurrency=(4,), seconds=1.0, warmup=0.5, device_customers=8,
                                    two_step_customers=40, argon2_repeats=1, argon2_seconds=0.3)
        return cls(**(base | overrides))


def _pg_url() -> str:
    u = make_url(normalise_url(population.pg_url()))
    return u.set(database=f"{u.database}_auth").render_as_string(hide_password=False)


def _targets(cfg: AuthBenchConfig) -> tuple[dict[str, str], dict[str, str]]:
    """{backend: url} to run, and {backend: why skipped}."""
    if cfg.database_url:
        return {make_url(normalise_url(cfg.database_url)).get_backend_name(): cfg.database_url}, {}
    out: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for name in cfg.databases:
        if name == "sqlite":
            cfg.var_dir.mkdir(parents=True, exist_ok=True)
            out[name] = population.sqlite_url(cfg.var_dir.resolve(), "auth")
        elif name == "postgresql":
            why = population.postgres_reachable(_pg_url())
            if why is None:
                out[name] = _pg_url()
            else:
                skipped[name] = why
        else:
            raise ValueError(f"unknown database {name!r} (sqlite, postgresql)")
    return out, skipped


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a child process started inside the block; restore them after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Phase:
    flow: str
    concurrency: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float
    generator_cpu_s: float
    first_error: str | None


@dataclass
class _State:
    """What the flows draw on: the trusted-device customers, the refresh-token chains (one per connection),
    the two-step customers not yet used at this concurrency level, and the outbox reader."""

    devices: list[BenchCustomer]
    chains: list[str]
    two_step: list[list[BenchCustomer]]
    read_outbox: Callable[[str], str | None]
    fresh: list[BenchCustomer] = field(default_factory=list)
    used: list[int] = field(default_factory=list)  # two-step customers signed in, per level


Op = Callable[[Connection, int, int], Awaitable[float]]


def _ops(state: _State, concurrency: int) -> dict[str, Op]:
    async def trivial(conn: Connection, i: int, seq: int) -> float:
        t0 = time.perf_counter()
        reply = await conn.request("GET", "/api/v1/health")
        if reply.status_code != 200:
            raise FlowFailed(f"health: {reply.status_code}")
        return time.perf_counter() - t0

    async def sign_in(conn: Connection, i: int, seq: int) -> float:
        customer = state.devices[(i + seq * concurrency) % len(state.devices)]
        nonce = await auth_client.device_nonce(conn)
        t0 = time.perf_counter()
        await auth_client.trusted_device_sign_in(conn, customer, PASSWORD, nonce)
        return time.perf_counter() - t0

    async def two_step(conn: Connection, i: int, seq: int) -> float:
        if not state.fresh:
            raise FlowFailed("every two-step customer of this level has signed in (raise two_step_customers)")
        customer = state.fresh.pop()
        t0 = time.perf_counter()
        await auth_client.two_step_sign_in(conn, customer, PASSWORD, state.read_outbox)
        return time.perf_counter() - t0

    async def refresh(conn: Connection, i: int, seq: int) -> float:
        t0 = time.perf_counter()
        state.chains[i] = await auth_client.refresh(conn, state.chains[i])
        return time.perf_counter() - t0

    return {"trivial": trivial, "sign-in": sign_in, "two-step": two_step, "refresh": refresh}


async def _phase(conns: list[Connection], server: Server, flow: str, op: Op, cfg: AuthBenchConfig,
                 reporter: Reporter) -> Phase:
    loop = asyncio.get_running_loop()
    window = Window(cfg.warmup, cfg.seconds)
    lat: list[float] = []
    counts = {"ok": 0, "errors": 0}
    first_error: list[str] = []

    async def worker(i: int) -> None:
        seq = 0
        while not window.closed:
            try:
                took, ok, detail = await op(conns[i], i, seq), True, ""
            except (FlowFailed, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                took, ok, detail = 0.0, False, f"{type(exc).__name__}: {exc}"
            seq += 1
            if window.measures(loop.time()):
                if ok:
                    counts["ok"] += 1
                    lat.append(took * 1000.0)
                else:
                    counts["errors"] += 1
            if not ok:
                if not first_error:
                    first_error.append(detail)
                await asyncio.sleep(0.05)  # a broken flow must not spin

    await asyncio.gather(window.clock(server.cpu_seconds, reporter),
                         *(worker(i) for i in range(len(conns))))
    return Phase(flow, len(conns), counts["ok"], counts["errors"], window.elapsed, lat,
                 window.server_cpu_s, window.generator_cpu_s, first_error[0] if first_error else None)


async def _drive(server: Server, cfg: AuthBenchConfig, state: _State, backend: str,
                 reporter: Reporter) -> list[Phase]:
    phases: list[Phase] = []
    for level, concurrency in enumerate(cfg.concurrency):
        conns = [Connection("127.0.0.1", server.port, auth_client.source_address(i))
                 for i in range(concurrency)]
        state.fresh = list(state.two_step[level])
        ops = _ops(state, concurrency)
        try:
            for flow in cfg.flows:
                reporter.start(f"auth {backend} {flow}, {concurrency} connections")
                phases.append(await _phase(conns, server, flow, ops[flow], cfg, reporter))
                reporter.done()
        finally:
            state.used.append(len(state.two_step[level]) - len(state.fresh))
            for c in conns:
                await c.close()
    return phases


def _result_rows(backend: str, phases: list[Phase]) -> list[dict[str, Any]]:
    rows = []
    for p in phases:
        base = next((b for b in phases if b.flow == "trivial" and b.concurrency == p.concurrency), None)
        base_rps = base.ok / base.seconds if base and base.ok else None
        rps = p.ok / p.seconds
        rows.append({
            "database": backend, "flow": p.flow, "concurrency": p.concurrency, "req_per_s": round(rps, 1),
            "ratio_to_trivial": round(rps / base_rps, 4) if base_rps else None,
            "p50_ms": round_or_none(percentile(p.latencies_ms, 50)),
            "p99_ms": round_or_none(percentile(p.latencies_ms, 99)), "ok": p.ok, "errors": p.errors,
            "server_cpu_share": round(p.server_cpu_s / p.seconds, 2),
            "generator_cpu_share": round(p.generator_cpu_s / p.seconds, 2), "first_error": p.first_error,
        })
    return rows


def _outbox_reader(db: Database) -> Callable[[str], str | None]:
    from atrium.notify import service as notify

    def read(phone: str) -> str | None:
        with db.read_session() as s:
            messages = notify.outbox(s, phone=phone, limit=1)
        return messages[0].body if messages else None

    return read


def _one_database(cfg: AuthBenchConfig, backend: str, url: str,
                  reporter: Reporter) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    db = population.fresh_database(url)
    try:
        with _environment(RAISED_LIMITS):
            server = Server(url, cfg.var_dir / f"auth-server-{backend}.log")
        try:
            server.wait_ready()
            reporter.phase(f"auth: {backend}: the server's password hash, then customers and devices")
            hashed = server_hash(db, server.base_url, PASSWORD)
            keys = [DeviceKey.generate() for _ in range(max(cfg.device_customers, max(cfg.concurrency)))]
            devices = seed_customers(db, "auth-dev", hashed, block=30, keys=keys)
            levels = [seed_customers(db, f"auth-2s{level}", hashed, block=50 + level,
                                     count=cfg.two_step_customers) for level in range(len(cfg.concurrency))]
            reporter.phase(f"auth: {backend}: {max(cfg.concurrency)} refresh-token chains")
            with httpx.Client(base_url=server.base_url, timeout=60.0) as http:
                chains = [first_refresh_token(db, http, c) for c in devices[: max(cfg.concurrency)]]
            state = _State(devices, chains, levels, _outbox_reader(db))
            phases = asyncio.run(_drive(server, cfg, state, backend, reporter))
        finally:
            server.stop()
    finally:
        db.dispose()
    meta = {"server_password_hash": _hash_shape(hashed), "device_customers": len(devices),
            "two_step_customers_per_level": cfg.two_step_customers,
            "two_step_customers_used": state.used}
    return _result_rows(backend, phases), meta, hashed


def _hash_shape(encoded: str) -> str:
    """The hash's parameter prefix ($argon2id$v=19$m=…,t=…,p=…), never its salt or digest."""
    return "$".join(encoded.split("$")[:4])


def run(cfg: AuthBenchConfig, reporter: Reporter) -> dict[str, Any]:
    started = time.time()
    targets, skipped = _targets(cfg)
    reporter.plan(len(targets) * len(cfg.concurrency) * len(cfg.flows) + (1 if cfg.argon2 else 0))
    results: list[dict[str, Any]] = []
    databases: dict[str, Any] = {}
    hashed = ""
    for backend, url in targets.items():
        rows, meta, hashed = _one_database(cfg, backend, url, reporter)
        results += rows
        databases[backend] = meta
    argon2 = None
    if cfg.argon2 and hashed:
        reporter.start("argon2id: the server's parameters and other sets")
        argon2 = auth_argon2.run(hashed, repeats=cfg.argon2_repeats, seconds=cfg.argon2_seconds)
        reporter.done()
    config = asdict(cfg)
    config["var_dir"], config["database_url"] = str(cfg.var_dir), None
    return {
        "benchmark": "auth", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": reporter.machine(), "config": config,
        "server": "uvicorn, 1 worker", "workers": 1, "threadpool": THREADPOOL, "generator": "raw",
        "databases": databases, "skipped": skipped, "results": results, "argon2": argon2,
    }
