"""`atrium bench risk-decider`: what the decider process costs per decision, against the chain it runs.

- Baseline, `chain`: the decision chain alone, in this process and thread — `decide_many` in a read
  transaction, then `log_many` and COMMIT in a write transaction, `max_batch` decisions at a time: the
  work no deployment can avoid (features, model, the log's INSERT and COMMIT).
- Measured, `decider`: the decider process (`atrium.risk.endpoints.decider_process.main`) on its Unix socket,
  driven by the workers' own client (`DeciderClient`) with `in_flight` requests outstanding: its CPU per
  decision (Linux /proc), its decisions a second, and the client's CPU per decision. `decider_env` runs
  it with extra environment — `PYTHONPATH` of another checkout's `src` measures that code's decider
  (the frames have not changed since the decider was introduced).

The ratio decider ÷ chain (CPU per decision) is what the process boundary adds: the socket, parsing and
answering, the hand-overs between its threads and the WAL checkpointer's thread. Each side has a SQLite
database of its own with the same reference data and model, warmed with the same stream; then they take
turns, `rounds` bursts of `decisions` each, and the result is the median of the rounds' ratios (this
machine's speed drifts, see `risk_ab`). No HTTP: `atrium bench risk` measures the whole path.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atrium.bench import risk_api as single
from atrium.bench.report import Reporter
from atrium.bench.risk_api_server import process_cpu_seconds
from atrium.config import get_settings
from atrium.risk.schemas import RiskEventIn


@dataclass(frozen=True)
class RiskDeciderConfig:
    rounds: int = 5
    decisions: int = 4_000  # per side and round
    warm_rows: int = 10_000
    in_flight: int = 64
    data: Path | None = single.DEFAULT_DATA
    traffic_rows: int = 200_000
    model: bool = True
    var_dir: Path = Path("var/bench")
    decider_env: dict[str, str] = field(default_factory=dict)  # e.g. PYTHONPATH of another checkout's src

    def traffic(self) -> single.RiskApiBenchConfig:
        return single.RiskApiBenchConfig(data=self.data, traffic_rows=self.traffic_rows, model=self.model)


@dataclass
class _Events:
    """The stream as the service's events, each with a fresh subject."""

    rows: list[dict[str, Any]]
    tag: str
    next: int = 0

    def take(self, n: int) -> list[RiskEventIn]:
        out = []
        for i in range(self.next, self.next + n):
            row = self.rows[i % len(self.rows)]
            out.append(RiskEventIn(channel="card", subject_ref=f"{self.tag}:{i}", currency="CNY",
                                   amount_minor=row["amount_minor"], customer_id=row["customer_ref"],
                                   card_ref=row["card_ref"], terminal_id=row["terminal_id"]))
        self.next += n
        return out


def _chain(db: Any, events: list[RiskEventIn], batch: int) -> None:
    from atrium.risk.service.screening import decide_many, log_many

    for start in range(0, len(events), batch):
        with db.read_session() as session:
            decided = decide_many(session, events[start:start + batch])
        db.run(lambda session, d=decided: log_many(session, d))


async def _drive(path: str, events: list[RiskEventIn], in_flight: int) -> list[tuple[str, str]]:
    """Every event through the decider, `in_flight` at a time; (decision id, outcome) of each answer."""
    from atrium.risk.endpoints.decider import DeciderClient

    client = DeciderClient(path)
    pending = iter(events)
    answered: list[tuple[str, str]] = []

    async def one_by_one() -> None:
        for event in pending:
            read = await client.screen(event)
            if read is None:
                raise RuntimeError("the decider did not answer (see its log)")
            answered.append((read.id, read.outcome))

    try:
        await asyncio.gather(*(one_by_one() for _ in range(in_flight)))
    finally:
        client.close()
    return answered


def _start_decider(url: str, folder: str, log_path: Path, extra_env: dict[str, str]
                   ) -> tuple[subprocess.Popen[bytes], str]:
    path = str(Path(folder) / "decider.sock")
    env = dict(os.environ, ATRIUM_DATABASE_URL=url, ATRIUM_LOG_LEVEL="WARNING", ATRIUM_ENV="development",
               **extra_env)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed module
            [sys.executable, "-c", f"from atrium.risk.endpoints.decider_process import main; main({path!r})"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the decider did not start; see {log_path}")
        time.sleep(0.05)
    return proc, path


def run(cfg: RiskDeciderConfig, reporter: Reporter) -> dict[str, Any]:
    from atrium.db import runtime
    from atrium.risk.service import setup

    started = time.time()
    rows, source = single.traffic(cfg.traffic())
    batch = get_settings().risk_api.max_batch
    reporter.plan(1 + 2 * cfg.rounds)
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    urls = [f"sqlite:///{(cfg.var_dir / f'risk-decider-{side}.db').resolve()}"
            for side in ("chain", "decider")]
    reporter.phase("risk decider: preparing both databases")
    chain_db, _key, _ = single._prepare(urls[0], cfg.model)
    decider_db, _key, _ = single._prepare(urls[1], cfg.model)
    runtime.set_db(chain_db)
    setup.preload(chain_db)
    streams = [_Events(rows, f"chain-{int(started)}"), _Events(rows, f"decider-{int(started)}")]
    folder = tempfile.mkdtemp(prefix="atrium-bench-")
    proc, path = _start_decider(urls[1], folder, cfg.var_dir / "risk-decider.log", cfg.decider_env)
    answered: list[tuple[str, str]] = []
    results: list[dict[str, Any]] = []
    try:
        reporter.start(f"warming both sides ({cfg.warm_rows} decisions each)")
        _chain(chain_db, streams[0].take(cfg.warm_rows), batch)
        answered += asyncio.run(_drive(path, streams[1].take(cfg.warm_rows), cfg.in_flight))
        reporter.done()
        for i in range(cfg.rounds):
            reporter.start(f"round {i + 1}: chain")
            events = streams[0].take(cfg.decisions)
            cpu, wall = time.process_time(), time.perf_counter()
            _chain(chain_db, events, batch)
            chain_us = (time.process_time() - cpu) / cfg.decisions * 1e6
            chain_rate = cfg.decisions / (time.perf_counter() - wall)
            reporter.done()
            reporter.start(f"round {i + 1}: decider")
            events = streams[1].take(cfg.decisions)
            decider_cpu, cpu, wall = process_cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
            answered += asyncio.run(_drive(path, events, cfg.in_flight))
            elapsed = time.perf_counter() - wall
            decider_us = (process_cpu_seconds(proc.pid) - decider_cpu) / cfg.decisions * 1e6
            client_us = (time.process_time() - cpu) / cfg.decisions * 1e6
            reporter.done()
            results.append({"round": i + 1, "chain_cpu_us": round(chain_us, 1),
                            "chain_decisions_per_s": round(chain_rate, 1),
                            "decider_cpu_us": round(decider_us, 1),
                            "decider_decisions_per_s": round(cfg.decisions / elapsed, 1),
                            "decider_cores": round(decider_us * cfg.decisions / 1e6 / elapsed, 2),
                            "client_cpu_us": round(client_us, 1),
                            "ratio": round(decider_us / chain_us, 3)})
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
        runtime.set_db(None)
        chain_db.dispose()
    found, mismatched = single.logged(decider_db, answered)
    decider_db.dispose()

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in results), 3)

    return {
        "benchmark": "risk-decider", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": reporter.machine(),
        "config": {"rounds": cfg.rounds, "decisions": cfg.decisions, "warm_rows": cfg.warm_rows,
                   "in_flight": cfg.in_flight, "max_batch": batch, "database": "sqlite",
                   "decider_env": cfg.decider_env},
        "traffic": source, "rounds": results,
        "summary": {key: median(key) for key in ("chain_cpu_us", "decider_cpu_us", "client_cpu_us",
                                                 "decider_decisions_per_s", "decider_cores", "ratio")},
        "checks": {"answered": len(answered), "logged": found, "outcome_mismatches": mismatched},
        "all_answered_logged": found == len(answered) and not mismatched,
    }
