"""The bench databases and the customers in them.

A bench database is thrown away and rebuilt on every run: PostgreSQL at ATRIUM_BENCH_DATABASE_URL (created
if missing, its `public` schema dropped and rebuilt from `atrium.schema`), SQLite as a WAL file under
`var/bench/`. Never point it at a database whose contents matter.

Every bench customer has one current CNY account funded from the bank's settlement account. The bank's
limits for internal transfers are raised through the limits service by a bench operator, so every transfer
is still judged against the limits (and counted in the usage counters) but none is refused by them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from atrium.db.engine import normalise_url
from atrium.db.session import Database

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/atrium_bench"
FUNDS_MINOR = 10**11  # a billion CNY per account: the bench never runs out of money
BENCH_CHANNELS = ("api", "mobile")
BENCH_PASSWORD = "bench password, loopback only"  # noqa: S105 - throwaway customers of a throwaway database


@dataclass(frozen=True)
class BenchAccount:
    customer_id: str
    username: str
    account_id: str
    number: str
    ledger_account_id: str


def pg_url() -> str:
    return os.environ.get("ATRIUM_BENCH_DATABASE_URL", DEFAULT_PG_URL)


def sqlite_url(root: Path, name: str = "ledger") -> str:
    return f"sqlite:///{root / f'bench-{name}.db'}"


def postgres_reachable(url: str) -> str | None:
    """None if the server answers, else why not (the bench then skips PostgreSQL and says so)."""
    u = make_url(normalise_url(url))
    engine = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


def fresh_database(url: str, *, pool_size: int = 20) -> Database:
    """Create (if missing) and empty the bench database, build Atrium's schema, return it."""
    from atrium.schema import install_extras, metadata

    u = make_url(normalise_url(url))
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}):
                conn.exec_driver_sql(f'CREATE DATABASE "{u.database}"')
        admin.dispose()
    db = Database(url, pool_size=pool_size)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    with db.engine.begin() as conn:
        metadata.create_all(conn)
        install_extras(conn)
    return db


def raise_bank_limits(db: Database) -> None:
    """High bank limits for internal transfers, set the way an operator would (audited)."""
    from atrium.identity import service as identity
    from atrium.limits import service as limits

    def work(session):  # type: ignore[no-untyped-def]
        staff = identity.create_staff(session, username="bench-operator", password=BENCH_PASSWORD,
                                      display_name="Bench operator", role="operator")
        for channel in BENCH_CHANNELS:
            limits.set_bank_limit(
                session, staff_id=staff.id, staff_role=staff.role, channel=channel,
                method="internal_transfer", currency="CNY", per_transaction_minor=10**9, daily_minor=10**15,
                monthly_minor=10**15,
            )

    db.run(work)


def seed_customers(db: Database, n: int, *, prefix: str = "bench", chunk: int = 100) -> list[BenchAccount]:
    """`n` customers with one funded current account each, `chunk` customers per transaction."""
    from atrium.accounts import service as accounts
    from atrium.identity import passwords
    from atrium.identity import service as identity
    from atrium.ledger import service as ledger

    # Thousands of throwaway customers: a cheap hash here (the bench process serves no logins; the API
    # bench's server rehashes with the real parameters at sign-in, before anything is measured).
    passwords.use_fast_hasher()
    out: list[BenchAccount] = []

    def make(session, lo: int, hi: int) -> list[BenchAccount]:  # type: ignore[no-untyped-def]
        settlement = ledger.get_or_create_internal(
            session, code="bank:settlement:CNY", name="Settlement account CNY", type="asset", currency="CNY"
        )
        made = []
        for i in range(lo, hi):
            username = f"{prefix}-{i:05d}"
            customer = identity.create_customer(session, username=username, password=BENCH_PASSWORD,
                                                display_name=f"Bench customer {i}", locale="en")
            acc = accounts.open_account(session, customer_id=customer.id, product="current", currency="CNY")
            ledger.post_transfer(
                session, idempotency_key=f"bench-fund:{acc.id}", debit_account_id=settlement.id,
                credit_account_id=acc.ledger_account_id, amount_minor=FUNDS_MINOR, currency="CNY",
                kind="bench.deposit", description="bench funding",
            )
            made.append(BenchAccount(customer.id, username, acc.id, acc.number, acc.ledger_account_id))
        return made

    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        out += db.run(lambda s, lo=lo, hi=hi: make(s, lo, hi))
    return out


def ledger_consistent(db: Database) -> tuple[bool, str]:
    """`ledger.check` after the runs: every journal balanced, every cached total equal to its legs."""
    from atrium.ledger import service as ledger

    with db.read_session() as session:
        report = ledger.check(session)
    if report.ok:
        return True, f"ok: {report.journals_checked} journals, {report.accounts_checked} accounts"
    first = report.discrepancies[0]
    return False, f"{len(report.discrepancies)} discrepancies, first: {first.check} {first.detail}"
