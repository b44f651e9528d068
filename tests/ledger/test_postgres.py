"""The database's own guarantees on PostgreSQL: append-only journals and legs, balanced journals at
COMMIT (deferred constraint trigger), and no lost updates or double posts under concurrency."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from atrium.db.session import Database
from atrium.kit.errors import IdempotencyConflict
from atrium.ledger import service as ledger
from atrium.ledger.errors import InsufficientFunds
from atrium.ledger.models import Journal
from tests.ledger.factories import PG, customer, deposit, key

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG, reason="PostgreSQL only")]


@pytest.fixture()
def pg(db: Database) -> Database:
    assert not db.is_sqlite
    return db


@pytest.fixture()
def posted(pg: Database) -> tuple[str, str, str]:
    """Two funded customers and one committed transfer between them: (alice, bob, journal id)."""
    with pg.unit_of_work() as s:
        alice, bob = customer(s, name="alice"), customer(s, name="bob")
        deposit(s, alice.id, 1_000)
        j = ledger.post_transfer(s, idempotency_key=key(), debit_account_id=alice.id,
                                 credit_account_id=bob.id, amount_minor=100, currency="CNY", kind="p2p")
    return alice.id, bob.id, j.id


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_legs SET amount_minor = amount_minor + 1 WHERE journal_id = :j",
    "DELETE FROM ledger_legs WHERE journal_id = :j",
    "UPDATE ledger_journals SET description = 'edited' WHERE id = :j",
    "DELETE FROM ledger_journals WHERE id = :j",
])
def test_journals_and_legs_are_append_only(
    pg: Database, posted: tuple[str, str, str], statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), pg.unit_of_work() as s:
        s.execute(text(statement), {"j": posted[2]})


def test_an_unbalanced_journal_inserted_by_raw_sql_fails_at_commit(pg: Database,
                                                                    posted: tuple[str, str, str]) -> None:
    alice, bob, _ = posted
    s = pg.session()
    try:
        s.execute(text(
            "INSERT INTO ledger_journals (id, idempotency_key, request_hash, kind, description, metadata,"
            " posted_at) VALUES ('jnl_raw', 'raw-key', 'h', 'raw', '', '{}', now())"
        ))
        s.execute(text(
            "INSERT INTO ledger_legs (journal_id, account_id, side, amount_minor, currency,"
            " balance_after_minor, posted_at) VALUES"
            " ('jnl_raw', :a, 'debit', 500, 'CNY', 0, now()), ('jnl_raw', :b, 'credit', 499, 'CNY', 0, now())"
        ), {"a": alice, "b": bob})
        # Each statement succeeded: the check is deferred to COMMIT, where it refuses.
        with pytest.raises(DBAPIError, match="does not balance"):
            s.commit()
    finally:
        s.rollback()
        s.close()
    with pg.read_session() as r:
        assert r.scalar(select(func.count()).select_from(Journal).where(Journal.id == "jnl_raw")) == 0


def test_a_leg_in_the_wrong_currency_fails_at_commit(pg: Database, posted: tuple[str, str, str]) -> None:
    alice, _, _ = posted
    with pg.unit_of_work() as s:
        usd = customer(s, currency="USD").id
    with pytest.raises(DBAPIError, match="currency"), pg.unit_of_work() as s:
        s.execute(text(
            "INSERT INTO ledger_journals (id, idempotency_key, request_hash, kind, description, metadata,"
            " posted_at) VALUES ('jnl_fx', 'fx-key', 'h', 'raw', '', '{}', now())"
        ))
        s.execute(text(
            "INSERT INTO ledger_legs (journal_id, account_id, side, amount_minor, currency,"
            " balance_after_minor, posted_at) VALUES"
            " ('jnl_fx', :a, 'debit', 5, 'CNY', 0, now()), ('jnl_fx', :b, 'credit', 5, 'CNY', 0, now())"
        ), {"a": alice, "b": usd})


def test_a_balanced_raw_journal_commits(pg: Database, posted: tuple[str, str, str]) -> None:
    """The trigger refuses only what is wrong (this also shows the two tests above can pass)."""
    alice, bob, _ = posted
    with pg.unit_of_work() as s:
        s.execute(text(
            "INSERT INTO ledger_journals (id, idempotency_key, request_hash, kind, description, metadata,"
            " posted_at) VALUES ('jnl_ok', 'ok-key', 'h', 'raw', '', '{}', now())"
        ))
        s.execute(text(
            "INSERT INTO ledger_legs (journal_id, account_id, side, amount_minor, currency,"
            " balance_after_minor, posted_at) VALUES"
            " ('jnl_ok', :a, 'debit', 5, 'CNY', 0, now()), ('jnl_ok', :b, 'credit', 5, 'CNY', 0, now())"
        ), {"a": alice, "b": bob})
    with pg.read_session() as r:
        report = ledger.check(r)
    # Raw SQL bypassed the cached totals: check() names exactly that, and nothing else.
    assert {d.check for d in report.discrepancies} == {"posted-totals", "balance-snapshot"}


def test_concurrent_transfers_with_retries_lose_nothing(pg: Database) -> None:
    """4 threads × 100 transfers among 6 accounts (two hot), each request sent twice — sometimes at the same
    time from two threads — through Database.run. No deadlock, no lost update, no double post; and a
    check() running beside the load (one snapshot) never sees a half-posted transfer."""
    n_accounts, threads, per_thread = 6, 4, 100
    with pg.unit_of_work() as s:
        ids = [customer(s, name=f"c{i}").id for i in range(n_accounts)]
        for account_id in ids:
            deposit(s, account_id, 5_000)
    rng = random.Random(7)
    plan = []
    for i in range(threads * per_thread):
        a = rng.choice(ids[:2]) if rng.random() < 0.6 else rng.choice(ids)  # hot spots
        b = rng.choice([x for x in ids if x != a])
        plan.append((f"conc-{i}", a, b, rng.randint(1, 400)))
    # Each thread gets its share plus a copy of a neighbour's share: every request arrives twice.
    shares = [plan[t::threads] + plan[(t + 1) % threads::threads] for t in range(threads)]
    outcomes: Counter[str] = Counter()
    journal_of: dict[str, set[str]] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(share: list[tuple[str, str, str, int]]) -> None:
        random.Random(hash(share[0][0])).shuffle(share)
        for k, a, b, amount in share:
            try:
                j = pg.run(lambda s, k=k, a=a, b=b, amount=amount: ledger.post_transfer(
                    s, idempotency_key=k, debit_account_id=a, credit_account_id=b, amount_minor=amount,
                    currency="CNY", kind="p2p"))
                with lock:
                    outcomes["posted"] += 1
                    journal_of.setdefault(k, set()).add(j.id)
            except InsufficientFunds:
                with lock:
                    outcomes["refused"] += 1
            except (IdempotencyConflict, Exception) as exc:  # noqa: BLE001 - any other error fails the test
                errors.append(exc)

    done = threading.Event()
    live_reports: list[bool] = []

    def checker() -> None:
        while not done.is_set():
            with pg.read_session() as r:
                report = ledger.check(r)
            live_reports.append(report.ok)
            if not report.ok:
                errors.append(AssertionError(report.discrepancies))

    pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
    watcher = threading.Thread(target=checker)
    for t in [*pool, watcher]:
        t.start()
    for t in pool:
        t.join(120)
    done.set()
    watcher.join(30)
    assert not errors, errors[:3]
    assert live_reports  # the checker did run during the load
    assert outcomes["posted"] + outcomes["refused"] == 2 * len(plan)
    assert all(len(js) == 1 for js in journal_of.values())  # a retried request never posted twice
    with pg.read_session() as r:
        report = ledger.check(r)
        assert report.ok, report.discrepancies
        p2p = r.scalar(select(func.count()).select_from(Journal).where(Journal.kind == "p2p"))
        assert p2p == len(journal_of)
        total = sum(ledger.get_account(r, i).booked_minor for i in ids)
        assert total == 5_000 * n_accounts  # money moved between customers, none created or destroyed
        assert all(ledger.get_account(r, i).available_minor >= 0 for i in ids)


def _race(pg: Database, first, second):  # type: ignore[no-untyped-def]
    """Run `first` in a transaction left open, start `second` in another thread (it blocks on the unique
    key index), then commit `first`. Returns what `second` returned or raised, and its session's fate."""
    outcome: dict[str, object] = {}
    s1 = pg.session()
    first(s1)

    def run_second() -> None:
        with pg.session() as s2:
            try:
                outcome["value"] = second(s2)
            except Exception as exc:  # noqa: BLE001 - handed to the test's assertions
                outcome["error"] = exc
            # The transaction must still be usable after a refused write (no aborted PG transaction).
            outcome["usable"] = s2.execute(text("SELECT 1")).scalar() == 1
            s2.rollback()

    t = threading.Thread(target=run_second)
    t.start()
    t.join(1.0)  # `second` is now waiting on the first writer's uncommitted key
    assert t.is_alive(), "the second writer should wait for the first one's key"
    s1.commit()
    s1.close()
    t.join(30)
    return outcome


@pytest.fixture()
def four(pg: Database) -> list[str]:
    with pg.unit_of_work() as s:
        ids = [customer(s, name=f"r{i}").id for i in range(4)]
        for account_id in ids:
            deposit(s, account_id, 1_000)
    return ids


def test_same_key_other_accounts_racing_is_409_not_500(pg: Database, four: list[str]) -> None:
    """The one race the account locks cannot serialise: one key, two requests on disjoint accounts. The
    journal insert's ON CONFLICT DO NOTHING waits for the first writer, then the second gets a 409."""
    a, b, c, d = four

    def send(s, x: str, y: str):  # type: ignore[no-untyped-def]
        return ledger.post_transfer(s, idempotency_key="race-key", debit_account_id=x, credit_account_id=y,
                                    amount_minor=10, currency="CNY", kind="p2p")

    outcome = _race(pg, lambda s: send(s, a, b), lambda s: send(s, c, d))
    assert isinstance(outcome.get("error"), IdempotencyConflict) and outcome["usable"]


def test_same_key_racing_in_a_batch_is_409_not_500(pg: Database, four: list[str]) -> None:
    from atrium.ledger.service import TransferRequest

    a, b, c, d = four
    outcome = _race(
        pg,
        lambda s: ledger.post_transfer(s, idempotency_key="race-batch", debit_account_id=a,
                                       credit_account_id=b, amount_minor=10, currency="CNY", kind="p2p"),
        lambda s: ledger.post_transfers(s, [TransferRequest("race-batch", c, d, 10, "CNY", "p2p"),
                                            TransferRequest("race-other", d, c, 5, "CNY", "p2p")]),
    )
    assert isinstance(outcome.get("error"), IdempotencyConflict) and outcome["usable"]


def test_same_key_other_hold_racing_is_409_not_500(pg: Database, four: list[str]) -> None:
    from datetime import timedelta

    from atrium.kit import clock

    a, b, c, d = four

    def place(s, x: str, y: str):  # type: ignore[no-untyped-def]
        return ledger.place_hold(s, idempotency_key="race-hold", debit_account_id=x, credit_account_id=y,
                                 amount_minor=10, currency="CNY", expires_at=clock.now() + timedelta(hours=1),
                                 kind="card")

    outcome = _race(pg, lambda s: place(s, a, b), lambda s: place(s, c, d))
    assert isinstance(outcome.get("error"), IdempotencyConflict) and outcome["usable"]
    with pg.read_session() as r:
        assert ledger.get_account(r, c).debits_pending == 0
        assert ledger.check(r).ok
