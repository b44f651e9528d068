"""`atrium bench risk-ab`: two variants of the decision API's server, side by side, in alternating bursts.

Why: this machine's speed drifts by 15–40 % within minutes (a shared host), so two `atrium bench risk`
runs made one after the other compare the machine's moods as much as the code. Here both servers run at
once, each on a database of its own with the same reference data and model, both are warmed alike, and then
they take turns: `rounds` bursts of `seconds` each, A then B, then B then A, and so on. A drift hits both
alike; each round gives a ratio B ÷ A, and the median ratio over the rounds is the comparison.

A variant is a name and the server's extra environment, `name:KEY=VALUE,KEY=VALUE` — a setting
(`ATRIUM_RISK_API__DECIDER=false`) or other code (`PYTHONPATH=/path/to/another/checkout/src`). Every answered
decision is checked in its server's log, as `atrium bench risk` does.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from atrium.bench import population
from atrium.bench import risk_api as single
from atrium.bench.api import free_port
from atrium.bench.http1 import Http1Connection
from atrium.bench.load import percentile
from atrium.bench.report import Reporter, round_or_none
from atrium.bench.risk_api_server import RiskServer
from atrium.db.engine import normalise_url


@dataclass(frozen=True)
class Variant:
    name: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> Variant:
        """`name:KEY=VALUE,KEY=VALUE` (the environment may be empty: `name:`)."""
        name, _, rest = spec.partition(":")
        if not name.isidentifier():
            raise ValueError(f"a variant is name:KEY=VALUE,…, not {spec!r}")
        env = {}
        for pair in filter(None, rest.split(",")):
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ValueError(f"{pair!r} is not KEY=VALUE")
            env[key] = value
        return cls(name, env)


@dataclass
class RiskAbConfig:
    a: Variant
    b: Variant
    rounds: int = 6
    seconds: float = 4.0
    warmup: float = 1.0
    connections: int = 64
    workers: int = 2
    database: str = "sqlite"  # or postgresql (its bench server, databases <name>_risk_ab0 and _ab1)
    warm_rows: int = 30_000
    data: Path | None = single.DEFAULT_DATA
    traffic_rows: int = 200_000
    model: bool = True
    app: str = "atrium.asgi:app"
    var_dir: Path = Path("var/bench")

    def phases(self) -> single.RiskApiBenchConfig:
        """The single-server bench's settings for one burst."""
        return single.RiskApiBenchConfig(
            connections=self.connections, seconds=self.seconds, warmup=self.warmup, data=self.data,
            traffic_rows=self.traffic_rows, warm_rows=self.warm_rows, model=self.model, app=self.app)


def _url(cfg: RiskAbConfig, i: int) -> str:
    if cfg.database == "sqlite":
        cfg.var_dir.mkdir(parents=True, exist_ok=True)
        return population.sqlite_url(cfg.var_dir.resolve(), f"risk-ab{i}")
    if cfg.database != "postgresql":
        raise ValueError(f"unknown database {cfg.database!r}: sqlite or postgresql")
    u = make_url(normalise_url(population.pg_url()))
    return u.set(database=f"{u.database}{single.PG_SUFFIX}_ab{i}").render_as_string(hide_password=False)


@dataclass
class _Side:
    variant: Variant
    server: RiskServer
    key: str
    stream: single.Stream
    db: Any
    conns: list[Http1Connection] = field(default_factory=list)
    answered: list[tuple[str, str]] = field(default_factory=list)


async def _rounds(cfg: RiskAbConfig, sides: list[_Side], reporter: Reporter) -> list[dict[str, Any]]:
    phases = cfg.phases()
    for side in sides:
        side.conns = [Http1Connection("127.0.0.1", side.server.port) for _ in range(cfg.connections)]
    try:
        for side in sides:
            reporter.start(f"{side.variant.name}: warming ({cfg.warm_rows} decisions)")
            warm = single.Phase("warm")
            await single._warm(side.conns, side.key, side.stream, cfg.warm_rows, warm)
            side.answered += warm.answered
            reporter.done()
        rounds = []
        for r in range(cfg.rounds):
            row: dict[str, Any] = {"round": r + 1, "order": []}
            for side in sides if r % 2 == 0 else sides[::-1]:
                reporter.start(f"round {r + 1}/{cfg.rounds}: {side.variant.name}")
                p = await single._phase(side.conns, "decide", phases, side.server, side.key, side.stream,
                                        reporter)
                reporter.done()
                side.answered += p.answered
                row["order"].append(side.variant.name)
                row[side.variant.name] = {
                    "decisions_per_s": round(p.ok / cfg.seconds, 1), "errors": p.errors,
                    "p50_ms": round_or_none(percentile(p.latencies_ms, 50)),
                    "p99_ms": round_or_none(percentile(p.latencies_ms, 99)),
                    "fallbacks": p.fallbacks, "server_cpu_share": round(p.server_cpu_s / cfg.seconds, 2)}
            rounds.append(row)
        return rounds
    finally:
        for side in sides:
            for c in side.conns:
                await c.close()


def run(cfg: RiskAbConfig, reporter: Reporter) -> dict[str, Any]:
    if cfg.a.name == cfg.b.name:
        raise ValueError("the two variants need two names")
    started = time.time()
    stream, source = single.traffic(cfg.phases())
    reporter.plan(2 + 2 * cfg.rounds)
    sides: list[_Side] = []
    try:
        for i, variant in enumerate((cfg.a, cfg.b)):
            reporter.phase(f"risk A/B: preparing {variant.name} on {cfg.database}")
            url = _url(cfg, i)
            db, key, _version = single._prepare(url, cfg.model)
            server = RiskServer(cfg.app, url, cfg.workers, variant.env, free_port(),
                                cfg.var_dir / f"risk-ab-{variant.name}.log")
            sides.append(_Side(variant, server, key, single.Stream(stream, f"ab{i}-{int(started)}"), db))
        for side in sides:
            side.server.wait_ready()
        rounds = asyncio.run(_rounds(cfg, sides, reporter))
    finally:
        for side in sides:
            side.server.stop()
    checks = {}
    for side in sides:
        found, mismatched = single.logged(side.db, side.answered)
        checks[side.variant.name] = {"answered": len(side.answered), "logged": found,
                                     "outcome_mismatches": mismatched,
                                     "answered_logged": found == len(side.answered) and not mismatched}
        side.db.dispose()
    a, b = cfg.a.name, cfg.b.name
    ratios = [row[b]["decisions_per_s"] / row[a]["decisions_per_s"] for row in rounds
              if row[a]["decisions_per_s"]]
    summary = {name: {"median_decisions_per_s": statistics.median(r[name]["decisions_per_s"]
                                                                  for r in rounds),
                      "median_p99_ms": round(statistics.median(r[name]["p99_ms"] or 0.0 for r in rounds), 1),
                      "fallbacks": sum(r[name]["fallbacks"] for r in rounds)} for name in (a, b)}
    return {
        "benchmark": "risk-ab", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": reporter.machine(),
        "config": {"rounds": cfg.rounds, "seconds": cfg.seconds, "connections": cfg.connections,
                   "workers": cfg.workers, "database": cfg.database, "warm_rows": cfg.warm_rows},
        "variants": {v.name: v.env for v in (cfg.a, cfg.b)}, "traffic": source, "rounds": rounds,
        "summary": summary,
        "ratio_b_to_a": {"median": round(statistics.median(ratios), 3) if ratios else None,
                         "per_round": [round(x, 3) for x in ratios]},
        "checks": checks, "all_answered_logged": all(c["answered_logged"] for c in checks.values()),
    }
