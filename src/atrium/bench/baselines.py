"""The baselines every ledger figure is divided by, measured in the same run on the same machine.

- PostgreSQL: `pgbench`'s built-in TPC-B-like script (3 UPDATEs, 1 SELECT, 1 INSERT per transaction,
  prepared statements), same server and client counts. tps is pgbench's own figure; p50/p99 come from its
  per-transaction log (`-l`), which has every transaction's latency in microseconds.
- SQLite: the raw `sqlite3` module doing what a transfer must do at the very least — two balance UPDATEs
  (the debit guarded by a floor) and two entry INSERTs in one `BEGIN IMMEDIATE` transaction — with the same
  pragmas as Atrium's engine (WAL, synchronous=NORMAL, busy_timeout) and the same account choice.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from atrium.bench.load import AccountChooser, LoadResult, percentile, run_closed_loop
from atrium.db.engine import normalise_url


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    tps: float
    transactions: int
    p50_ms: float | None
    p99_ms: float | None
    failed: int


def pgbench_missing() -> str | None:
    return None if shutil.which("pgbench") else "pgbench is not installed (apt-get install postgresql-client)"


def _conn_args(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(normalise_url(url))
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432)]
    if u.username:
        args += ["-U", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return [*args, u.database or "postgres"], env


def pgbench_init(url: str, scale: int) -> None:
    """`pgbench -i -s scale`: its own four tables, next to Atrium's in the bench database."""
    args, env = _conn_args(url)
    subprocess.run(["pgbench", "-i", "-s", str(scale), "-q", *args], env=env, check=True,  # noqa: S603,S607
                   capture_output=True, text=True, timeout=600)


_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_PROCESSED = re.compile(r"number of transactions actually processed: (\d+)")
_FAILED = re.compile(r"number of failed transactions: (\d+)")


def pgbench_run(url: str, clients: int, seconds: int, workdir: Path) -> PgbenchResult:
    """`pgbench -c N -j N -T secs -M prepared -l`: the TPC-B-like script, per-transaction log."""
    args, env = _conn_args(url)
    workdir = workdir.resolve()  # pgbench runs in it and gets the log prefix: one absolute path for both
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = workdir / f"pgbench-c{clients}"
    for old in workdir.glob(f"{prefix.name}.*"):
        old.unlink()
    proc = subprocess.run(  # noqa: S603
        ["pgbench", "-c", str(clients), "-j", str(clients), "-T", str(seconds), "-M", "prepared",  # noqa: S607
         "-l", f"--log-prefix={prefix}", *args],
        env=env, cwd=workdir, capture_output=True, text=True, timeout=seconds + 120, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed: {proc.stderr.strip()[-400:]}")
    tps = _TPS.search(proc.stdout)
    processed = _PROCESSED.search(proc.stdout)
    failed = _FAILED.search(proc.stdout)
    latencies = read_pgbench_log(workdir.glob(f"{prefix.name}.*"))
    for f in workdir.glob(f"{prefix.name}.*"):
        f.unlink()
    return PgbenchResult(
        clients=clients, tps=float(tps.group(1)) if tps else 0.0,
        transactions=int(processed.group(1)) if processed else len(latencies),
        p50_ms=percentile(latencies, 50), p99_ms=percentile(latencies, 99),
        failed=int(failed.group(1)) if failed else 0,
    )


def read_pgbench_log(files) -> list[float]:  # type: ignore[no-untyped-def]
    """Per-transaction log lines: `client_id transaction_no time_us script_no epoch epoch_us` (ms out)."""
    out: list[float] = []
    for path in files:
        with open(path) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():  # failed transactions log "failed"/"skipped"
                    out.append(int(parts[2]) / 1000.0)
    return out


# --- SQLite -----------------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE entries (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
  amount INTEGER NOT NULL, transfer_key TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL
);
"""


class RawSqliteLedger:
    """The minimal transfer on the bare `sqlite3` module: the floor every SQLite ledger pays."""

    def __init__(self, path: Path, n_accounts: int, funds: int) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.path = path
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO accounts (id, balance) VALUES (?, ?)",
                         ((i, funds) for i in range(n_accounts)))
        conn.execute("COMMIT")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def transfer(self, key: str, src: int, dst: int, amount: int) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute("UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?",
                               (amount, src, amount))
            if cur.rowcount != 1:
                raise RuntimeError("insufficient funds")
            conn.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, dst))
            conn.execute("INSERT INTO entries (account_id, amount, transfer_key, created_at) "
                         "VALUES (?, ?, ?, datetime('now'))", (src, -amount, key + ":d"))
            conn.execute("INSERT INTO entries (account_id, amount, transfer_key, created_at) "
                         "VALUES (?, ?, ?, datetime('now'))", (dst, amount, key + ":c"))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def total(self) -> int:
        return self._conn().execute("SELECT sum(balance) FROM accounts").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            for c in self._conns:
                c.close()
            self._conns.clear()


def sqlite_raw_run(
    path: Path, *, n_accounts: int, workload: str, clients: int, seconds: float, warmup: float,
    funds: int, run_id: str, on_tick=None,  # type: ignore[no-untyped-def]
) -> LoadResult:
    ledger = RawSqliteLedger(path, n_accounts, funds)
    chooser = AccountChooser(n_accounts, workload)

    def op(k: int, seq: int) -> None:
        src, dst = chooser.pair()
        ledger.transfer(f"{run_id}:{k}:{seq}", src, dst, chooser.amount())

    try:
        result = run_closed_loop(clients, op, seconds=seconds, warmup=warmup, on_tick=on_tick)
        if ledger.total() != funds * n_accounts:
            raise AssertionError("the raw SQLite baseline lost money: its own transfers are wrong")
        return result
    finally:
        ledger.close()
