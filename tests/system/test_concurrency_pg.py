"""8 workers × 300 transfers among 20 accounts with hot spots and duplicate retries, on PostgreSQL: no lost
update, no double payment, no deadlock surfacing to a client, the trial balance zero.

Each worker is a thread calling `payments.service.transfer` through `Database.run` — the unit of work an
edge uses, with its retry of transient conflicts (see transfer_load.py for why the threads are spread over
two processes). Three quarters of the accounts picked are four hot ones (one of each of four customers, so
their limit counters are hot too), in random directions, own transfers and transfers to other customers
mixed. About one request in ten is sent again with the same idempotency key: by another worker at the same
step, the two meeting at a barrier so both are in flight together, or by the same worker a few steps later
(a client retrying after a timeout). The channel is `branch`, whose bank limits are evaluated on every
transfer (the counter rows are locked and updated) but are far above this load.

The load runs once per module; each test below proves one claim about it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from atrium.db.session import Database
from tests.system import transfer_load, world
from tests.system.pg import build_schema, requires_postgres, scratch_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow, requires_postgres, pytest.mark.timeout(300)]

WORKERS = 8
PER_WORKER = 300
CUSTOMERS, ACCOUNTS_EACH = 5, 4  # 20 accounts
OPENING_MINOR = 2_000_000  # 20,000.00 CNY each
SEED = 20240515


@dataclass(frozen=True)
class Load:
    db: Database
    bank: world.Bank
    plan: transfer_load.Plan
    results: transfer_load.Results


@pytest.fixture(scope="module")
def load() -> Iterator[Load]:
    with scratch_database("sys_conc") as url:
        db = Database(url, pool_size=2)
        try:
            build_schema(db)
            bank = world.seed(db, customers=CUSTOMERS, accounts_each=ACCOUNTS_EACH, funds_minor=OPENING_MINOR,
                              tag="conc")
            plan = transfer_load.make_plan(
                bank, random.Random(SEED), workers=WORKERS, per_worker=PER_WORKER, hot=4, hot_share=0.75,
                twin_rate=0.06, retry_rate=0.05,
            )
            yield Load(db, bank, plan, transfer_load.run(url, plan))
        finally:
            db.dispose()


def test_the_plan_has_hot_spots_and_duplicates(load: Load) -> None:
    """The load is what it claims to be (so the proofs below are not vacuous)."""
    slots = [s for row in load.plan.rows for s in row]
    sends = load.plan.sends
    assert len(load.plan.rows) == WORKERS and len(slots) == WORKERS * PER_WORKER
    resent = len(slots) - len(sends)
    assert 0.07 * len(slots) < resent < 0.13 * len(slots), resent
    assert len(load.plan.twins) > 0.025 * len(slots)
    touched = Counter(a for s in sends.values() for a in (s.source, s.destination))
    assert sum(n for _, n in touched.most_common(4)) > 0.6 * sum(touched.values())
    # Re-sends reached the service; twins raced each other to the unique (customer, key) index and the
    # loser replayed the winner (the 23505 the service catches); most transfers went through.
    answers = load.results.answers
    assert sum(1 for a in answers.values() if len(a) > 1) > 100
    assert load.results.db_errors["23505"] > 0, dict(load.results.db_errors)
    assert len(answers) > 0.8 * len(sends), (len(answers), len(load.results.refused))


def test_no_worker_saw_anything_but_a_business_refusal(load: Load) -> None:
    """No deadlock, serialization failure or other error reached a client; the only refusal is
    InsufficientFunds (a hot account momentarily drained)."""
    assert load.results.errors == [], load.results.errors[:10]
    # Ordered row locks (deposit accounts, then the payer's limit counters, then ledger accounts, each
    # ascending) leave no lock cycle: PostgreSQL never had to break a deadlock, even one Database.run
    # would have retried silently.
    assert load.results.db_errors["40P01"] == 0, dict(load.results.db_errors)


def test_each_idempotency_key_paid_at_most_once(load: Load) -> None:
    """Every answer for a key is the same transfer; the database holds one transfer, one journal and one
    event per key that succeeded, and nothing for keys that never did."""
    ids_by_key = {key: {a.id for a in answers} for key, answers in load.results.answers.items()}
    assert {k: ids for k, ids in ids_by_key.items() if len(ids) != 1} == {}
    answered_ids = {next(iter(ids)) for ids in ids_by_key.values()}
    assert len(answered_ids) == len(ids_by_key)  # no two keys share a transfer

    audit = world.audit_transfers(load.db)
    assert audit.problems == [], audit.problems[:10]
    assert set(audit.transfers) == answered_ids
    assert {t.idempotency_key for t in audit.transfers.values()} == set(ids_by_key)
    assert max(audit.per_key.values()) == 1


def test_every_balance_is_its_opening_plus_its_answered_transfers(load: Load) -> None:
    """No lost update: the balances computed from the answers alone equal the ledger's, booked and
    available, for all 20 accounts."""
    sends = load.plan.sends
    for key, answers in load.results.answers.items():
        assert answers[0].amount_minor == sends[key].amount_minor
        assert answers[0].from_account_id == sends[key].source
    moved = [(sends[k].source, sends[k].destination, sends[k].amount_minor) for k in load.results.answers]
    want = world.expected_balances(load.bank, moved)
    have = world.balances(load.db, want)
    assert {a: b for a, b in have.items() if b != (want[a], want[a])} == {}
    assert sum(b for b, _ in have.values()) == sum(load.bank.opening.values())  # conserved among them


def test_ledger_check_is_clean_and_trial_balance_zero(load: Load) -> None:
    ok, discrepancies, differences = world.ledger_report(load.db)
    assert ok, discrepancies[:10]
    assert differences == {world.CURRENCY: 0}
