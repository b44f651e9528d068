"""`atrium bench ledger`: transfers through the payments service against pgbench and raw sqlite3.

Workload: internal transfers between bench customers' current accounts through
`atrium.payments.service.transfer` — the code the API runs (ownership, limits with their locked usage
counters, idempotency, the ledger's double entry and balance floor, the Transfer row and its outbox event).
N closed-loop clients (1, 4, 16), uniform or hot-spot account choice (see `load.AccountChooser`).

Two Atrium modes:
- `direct`: one database transaction per transfer (`Database.run`), as an API request does;
- `batched`: the clients' transfers go through a `GroupCommitter` — one transaction and one COMMIT per batch,
  each transfer in its own savepoint, each client answered after its batch committed.

Baselines run in the same process, interleaved with the Atrium runs of the same client count so that a
noisy neighbour hurts both alike: pgbench's TPC-B-like script on PostgreSQL, raw `sqlite3` on SQLite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from atrium.bench import baselines, ledger_core, population
from atrium.bench.load import AccountChooser, LoadResult, run_closed_loop
from atrium.bench.population import BenchAccount
from atrium.bench.report import Reporter, round_or_none
from atrium.db.batching import GroupCommitter
from atrium.db.session import Database

CURRENCY = "CNY"
CHANNEL = "api"


@dataclass
class LedgerBenchConfig:
    seconds: float = 6.0
    warmup: float = 0.8
    clients: tuple[int, ...] = (1, 4, 16)
    workloads: tuple[str, ...] = ("uniform", "hotspot")
    modes: tuple[str, ...] = ("direct", "batched")
    databases: tuple[str, ...] = ("postgresql", "sqlite")
    accounts: int = 500
    pgbench_scale: int = 16
    max_batch: int = 21  # a payment opens 3 savepoints: 63 subtransactions stay under PostgreSQL's 64
    max_wait_ms: float = 0.0
    pg_writers: int = 2
    # The ledger alone (bench.ledger_core): what set-wise group commit is worth without the payment path.
    core_modes: tuple[str, ...] = ledger_core.MODES
    core_workloads: tuple[str, ...] = ("hotspot",)
    var_dir: Path = field(default_factory=lambda: Path("var/bench"))

    @classmethod
    def quick(cls, **overrides: Any) -> LedgerBenchConfig:
        """Seconds, not minutes: a smoke run of the whole harness (figures are indicative only)."""
        base: dict[str, Any] = dict(seconds=1.0, warmup=0.3, clients=(1, 4), accounts=60, pgbench_scale=1)
        return cls(**(base | overrides))


def transfer_work(src: BenchAccount, dst: BenchAccount, amount_minor: int, key: str) -> Callable[[Any], Any]:
    """One customer transfer, exactly as the API's POST /api/v1/transfers asks the service for it."""
    from atrium.payments import service as payments
    from atrium.payments.schemas import AtriumDestination

    to = AtriumDestination(type="atrium", account_number=dst.number)

    def work(session):  # type: ignore[no-untyped-def]
        result = payments.transfer(
            session, customer_id=src.customer_id, idempotency_key=key, from_account_id=src.account_id, to=to,
            amount_minor=amount_minor, currency=CURRENCY, memo="", channel=CHANNEL,
        )
        if result.status != "completed":
            raise AssertionError(f"bench transfer ended {result.status}")
        return result

    return work


def run_atrium(
    db: Database, accounts: list[BenchAccount], *, mode: str, workload: str, clients: int,
    cfg: LedgerBenchConfig, run_id: str, on_tick: Callable[[float], None] | None = None,
) -> tuple[LoadResult, dict[str, Any]]:
    chooser = AccountChooser(len(accounts), workload)
    extra: dict[str, Any] = {}
    committer: GroupCommitter | None = None
    if mode == "batched":
        writers = 1 if db.is_sqlite else cfg.pg_writers
        committer = GroupCommitter(db, max_batch=cfg.max_batch, max_wait_ms=cfg.max_wait_ms, writers=writers,
                                   name=f"bench-{run_id}")
        extra["writers"] = writers

    def op(k: int, seq: int) -> None:
        a, b = chooser.pair()
        src, dst = accounts[a], accounts[b]
        work = transfer_work(src, dst, chooser.amount(), f"{run_id}-{k}-{seq}")
        if committer is None:
            db.run(work)
        else:
            # Conflict keys: every row the transfer locks (both deposit/ledger accounts, the payer's
            # limit counters) so several PostgreSQL writers keep their batches disjoint.
            committer.submit(work, keys=(src.account_id, dst.account_id, src.customer_id), timeout=120)

    try:
        result = run_closed_loop(clients, op, seconds=cfg.seconds, warmup=cfg.warmup, on_tick=on_tick)
    finally:
        if committer is not None:
            committer.close()
    if committer is not None:
        st = committer.stats
        extra.update(mean_batch=round(st.mean_batch, 1), largest_batch=st.largest_batch,
                     retried_batches=st.retried_batches)
    return result, extra


def _row(database: str, workload: str, clients: int, mode: str, result: LoadResult, baseline_name: str,
         baseline_tps: float, baseline_p50: float | None, baseline_p99: float | None,
         extra: dict[str, Any]) -> dict[str, Any]:
    tps = result.per_second
    return {
        "database": database, "workload": workload, "clients": clients, "mode": mode,
        "atrium_tps": round(tps, 1), "baseline": baseline_name, "baseline_tps": round(baseline_tps, 1),
        "ratio": round(tps / baseline_tps, 4) if baseline_tps else None,
        "p50_ms": round_or_none(result.p50_ms), "p99_ms": round_or_none(result.p99_ms),
        "baseline_p50_ms": round_or_none(baseline_p50), "baseline_p99_ms": round_or_none(baseline_p99),
        "transfers": result.completed, "errors": result.errors, "first_error": result.first_error,
        "load_1m": round(os.getloadavg()[0], 2), **extra,
    }


def _plan_size(cfg: LedgerBenchConfig, database: str) -> int:
    per_clients = len(cfg.workloads) * len(cfg.modes) + len(_core_workloads(cfg)) * len(cfg.core_modes)
    atrium = len(cfg.clients) * per_clients
    base = len(cfg.clients) if database == "postgresql" else len(cfg.clients) * len(cfg.workloads)
    return atrium + base


Rows = list[dict[str, Any]]


def _core_workloads(cfg: LedgerBenchConfig) -> list[str]:
    return [w for w in cfg.core_workloads if w in cfg.workloads] if cfg.core_modes else []


def _run_core(db: Database, accounts: list[BenchAccount], cfg: LedgerBenchConfig, reporter: Reporter, *,
              database: str, workload: str, clients: int,
              baseline: tuple[str, float, float | None, float | None], n: int) -> Rows:
    rows = []
    for mode in cfg.core_modes:
        reporter.start(f"{database} {workload} {mode}, {clients} clients")
        result, extra = ledger_core.run(
            db, accounts, mode=mode, workload=workload, clients=clients, seconds=cfg.seconds,
            warmup=cfg.warmup, writers=cfg.pg_writers, max_batch=64, run_id=f"core{n}-{mode}",
            on_tick=reporter.tick,
        )
        reporter.done()
        rows.append(_row(database, workload, clients, mode, result, *baseline, extra))
    return rows



def bench_postgresql(cfg: LedgerBenchConfig, reporter: Reporter) -> tuple[Rows, dict[str, Any]]:
    url = population.pg_url()
    db = population.fresh_database(url, pool_size=max(cfg.clients) + 4)
    try:
        reporter.phase(f"PostgreSQL: seeding {cfg.accounts} funded customers")
        population.raise_bank_limits(db)
        accounts = population.seed_customers(db, cfg.accounts)
        reporter.phase(f"PostgreSQL: pgbench -i -s {cfg.pgbench_scale}")
        baselines.pgbench_init(url, cfg.pgbench_scale)
        with db.engine.connect() as conn:
            server = conn.exec_driver_sql("SHOW server_version").scalar()
            sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        rows: list[dict[str, Any]] = []
        base_rows: list[dict[str, Any]] = []
        for clients in cfg.clients:
            reporter.start(f"pgbench TPC-B, {clients} clients")
            secs = max(1, round(cfg.seconds + cfg.warmup))
            pg = baselines.pgbench_run(url, clients, secs, cfg.var_dir / "pgbench")
            reporter.done()
            base_rows.append({"database": "postgresql", "baseline": "pgbench-tpcb", "clients": clients,
                              "tps": round(pg.tps, 1), "p50_ms": round_or_none(pg.p50_ms),
                              "p99_ms": round_or_none(pg.p99_ms), "transactions": pg.transactions,
                              "failed": pg.failed})
            for workload in cfg.workloads:
                for mode in cfg.modes:
                    reporter.start(f"PostgreSQL {workload} {mode}, {clients} clients")
                    result, extra = run_atrium(db, accounts, mode=mode, workload=workload, clients=clients,
                                               cfg=cfg, run_id=f"pg{len(rows)}", on_tick=reporter.tick)
                    reporter.done()
                    rows.append(_row("postgresql", workload, clients, mode, result, "pgbench-tpcb", pg.tps,
                                     pg.p50_ms, pg.p99_ms, extra))
                if workload in _core_workloads(cfg):
                    base = ("pgbench-tpcb", pg.tps, pg.p50_ms, pg.p99_ms)
                    rows += _run_core(db, accounts, cfg, reporter, database="postgresql", workload=workload,
                                      clients=clients, baseline=base, n=len(rows))
        reporter.phase("PostgreSQL: ledger check")
        ok, detail = population.ledger_consistent(db)
        meta = {"server_version": server, "synchronous_commit": sync, "pgbench_scale": cfg.pgbench_scale,
                "ledger_check_ok": ok, "ledger_check": detail, "baselines": base_rows}
        return rows, meta
    finally:
        db.dispose()


def bench_sqlite(cfg: LedgerBenchConfig, reporter: Reporter) -> tuple[Rows, dict[str, Any]]:
    import sqlite3

    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    db = population.fresh_database(population.sqlite_url(cfg.var_dir.resolve()))
    try:
        reporter.phase(f"SQLite: seeding {cfg.accounts} funded customers")
        population.raise_bank_limits(db)
        accounts = population.seed_customers(db, cfg.accounts)
        rows: list[dict[str, Any]] = []
        base_rows: list[dict[str, Any]] = []
        for clients in cfg.clients:
            for workload in cfg.workloads:
                reporter.start(f"raw sqlite3 {workload}, {clients} clients")
                raw = baselines.sqlite_raw_run(
                    cfg.var_dir.resolve() / "bench-raw.db", n_accounts=cfg.accounts, workload=workload,
                    clients=clients, seconds=cfg.seconds, warmup=cfg.warmup, funds=population.FUNDS_MINOR,
                    run_id=f"raw{len(base_rows)}", on_tick=reporter.tick,
                )
                reporter.done()
                base_rows.append({"database": "sqlite", "baseline": "sqlite3-raw", "workload": workload,
                                  "clients": clients, "tps": round(raw.per_second, 1),
                                  "p50_ms": round_or_none(raw.p50_ms), "p99_ms": round_or_none(raw.p99_ms),
                                  "transactions": raw.completed, "errors": raw.errors})
                for mode in cfg.modes:
                    reporter.start(f"SQLite {workload} {mode}, {clients} clients")
                    result, extra = run_atrium(db, accounts, mode=mode, workload=workload, clients=clients,
                                               cfg=cfg, run_id=f"sq{len(rows)}", on_tick=reporter.tick)
                    reporter.done()
                    rows.append(_row("sqlite", workload, clients, mode, result, "sqlite3-raw", raw.per_second,
                                     raw.p50_ms, raw.p99_ms, extra))
                if workload in _core_workloads(cfg):
                    base = ("sqlite3-raw", raw.per_second, raw.p50_ms, raw.p99_ms)
                    rows += _run_core(db, accounts, cfg, reporter, database="sqlite", workload=workload,
                                      clients=clients, baseline=base, n=len(rows))
        reporter.phase("SQLite: ledger check")
        ok, detail = population.ledger_consistent(db)
        meta = {"sqlite_version": sqlite3.sqlite_version, "journal_mode": "wal", "synchronous": "normal",
                "ledger_check_ok": ok, "ledger_check": detail, "baselines": base_rows}
        return rows, meta
    finally:
        db.dispose()


def run(cfg: LedgerBenchConfig, reporter: Reporter) -> dict[str, Any]:
    """The whole ledger benchmark; returns the JSON document (see bench/README.md)."""
    started = time.time()
    databases: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    todo = list(cfg.databases)
    if "postgresql" in todo:
        why = baselines.pgbench_missing() or population.postgres_reachable(population.pg_url())
        if why:
            skipped["postgresql"] = why
            todo.remove("postgresql")
    reporter.plan(sum(_plan_size(cfg, d) for d in todo))
    for database in todo:
        bench = bench_postgresql if database == "postgresql" else bench_sqlite
        rows, meta = bench(cfg, reporter)
        results += rows
        databases[database] = meta
    config = asdict(cfg)
    config["var_dir"] = str(cfg.var_dir)
    return {
        "benchmark": "ledger", "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1), "machine": reporter.machine(), "config": config,
        "databases": databases, "skipped": skipped, "results": results,
    }
