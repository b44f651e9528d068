"""The standing-order job: each occurrence is paid exactly once (re-runs, late runs, concurrent runs),
failures are recorded with their reason, and the third failure in a row suspends the order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from atrium.accounts import service as accounts
from atrium.payments import service as payments
from atrium.payments.orders import service as orders
from atrium.payments.schemas import PayeeCreate
from tests.payments import factories as f
from tests.payments.orders import factories as of
from tests.payments.orders.factories import TODAY


def _to_bob(world) -> dict:  # type: ignore[no-untyped-def]
    return {"type": "atrium", "account_number": world.bob_cny.number}


def _days(n: int):  # type: ignore[no-untyped-def]
    return f.NOON + timedelta(days=n)


def test_an_order_due_today_runs_exactly_once_even_if_the_job_runs_twice(db, world) -> None:
    order = of.create(db, world.alice, of.body(world.alice_cny.id, _to_bob(world), amount_minor=2_500))
    first, second = of.run(db), of.run(db)
    assert (first.paid, first.failed, first.errors) == (1, 0, 0) and (second.orders, second.paid) == (0, 0)
    (t,) = of.transfers(db)
    assert (t.channel, t.kind, t.amount_minor, t.idempotency_key) == (
        "scheduled",
        "internal",
        2_500,
        f"order:{order.id}:{TODAY.isoformat()}",
    )
    got = of.detail(db, world.alice, order.id)
    assert (got.status, got.next_run_on, got.occurrences_handled) == ("completed", None, 1)
    assert [(e.status, e.occurrence_on, e.transfer_id) for e in got.executions] == [("paid", TODAY, t.id)]
    with db.session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 2_500
    (event,) = f.events(db, "StandingOrderExecuted")
    assert (event["order_id"], event["transfer_id"], event["occurrence_on"]) == (order.id, t.id, "2024-05-15")
    assert f.ledger_ok(db)


def test_a_future_order_waits_for_its_day(db, world, frozen) -> None:
    of.create(db, world.alice, of.body(world.alice_cny.id, _to_bob(world), start_on="2024-05-20"))
    assert of.run(db).paid == 0
    frozen.set(_days(5) - timedelta(hours=5))  # 2024-05-20 07:00 in Shanghai
    assert of.run(db).paid == 1 and of.transfer_count(db) == 1


def test_a_late_job_catches_up_every_missed_occurrence_once(db, world, frozen) -> None:
    order = of.create(db, world.alice, of.body(world.alice_cny.id, _to_bob(world), frequency="weekly"))
    frozen.set(_days(22))  # the job did not run for three weeks
    assert of.run(db).paid == 4
    assert of.run(db).paid == 0
    got = of.detail(db, world.alice, order.id)
    assert [e.occurrence_on for e in reversed(got.executions)] == [
        TODAY + timedelta(weeks=i) for i in range(4)
    ]
    assert got.next_run_on == TODAY + timedelta(weeks=4) and got.status == "active"
    keys = sorted(t.idempotency_key for t in of.transfers(db))
    assert len(set(keys)) == 4
    with db.session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 4_000
    assert f.ledger_ok(db)


def test_concurrent_job_runs_pay_each_occurrence_once(db, world, frozen) -> None:
    for _ in range(3):
        of.create(
            db, world.alice, of.body(world.alice_cny.id, _to_bob(world), frequency="weekly", amount_minor=100)
        )
    frozen.set(_days(15))
    barrier = threading.Barrier(4)

    def run(_: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return of.run(db)

    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(run, range(4)))
    assert sum(r.paid for r in runs) == 9 and sum(r.errors for r in runs) == 0, runs
    assert of.transfer_count(db) == 9
    with db.session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 900
    assert f.ledger_ok(db)


def test_a_crash_mid_occurrence_pays_it_on_the_next_run(db, world) -> None:
    order = of.create(db, world.alice, of.body(world.alice_cny.id, _to_bob(world)))

    class Crash(Exception):
        pass

    try:
        with db.unit_of_work() as s:
            assert orders.run_next(s, order_id=order.id, today=TODAY) is not None
            raise Crash  # the process dies before the commit
    except Crash:
        pass
    assert of.transfer_count(db) == 0 and of.detail(db, world.alice, order.id).occurrences_handled == 0
    assert of.run(db).paid == 1 and of.run(db).paid == 0 and of.transfer_count(db) == 1


def test_failures_are_recorded_and_the_third_in_a_row_suspends(db, world, frozen) -> None:
    order = of.create(
        db, world.alice, of.body(world.alice_cny.id, _to_bob(world), frequency="weekly", amount_minor=60_000)
    )
    assert of.run(db).paid == 1  # 1,000.00 → 400.00 left
    frozen.set(_days(7))
    assert of.run(db).failed == 1
    got = of.detail(db, world.alice, order.id)
    latest = got.executions[0]
    assert (latest.status, latest.failure_code, latest.transfer_id) == ("failed", "insufficient-funds", None)
    assert "available" in (latest.failure_reason or "")
    assert (got.status, got.consecutive_failures, got.next_run_on) == (
        "active",
        1,
        TODAY + timedelta(weeks=2),
    )
    frozen.set(_days(21))  # two more weeks missed: both fail, the second suspends the order
    run = of.run(db)
    assert (run.paid, run.failed) == (0, 2)
    got = of.detail(db, world.alice, order.id)
    assert (got.status, got.consecutive_failures, got.occurrences_handled) == ("suspended", 3, 4)
    assert [e["suspended"] for e in f.events(db, "StandingOrderFailed")] == [False, False, True]
    frozen.set(_days(28))
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 100_000)
    assert of.run(db).paid == 0  # a suspended order does not run
    with db.session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 60_000
    assert f.ledger_ok(db)


def test_a_success_resets_the_failure_count(db, world, frozen) -> None:
    order = of.create(
        db, world.alice, of.body(world.alice_cny.id, _to_bob(world), frequency="weekly", amount_minor=150_000)
    )
    assert of.run(db).failed == 1
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 100_000)
    frozen.set(_days(7))
    assert of.run(db).paid == 1
    assert of.detail(db, world.alice, order.id).consecutive_failures == 0


def test_limit_closed_account_and_deleted_payee_failures_name_their_reason(db, world) -> None:
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 10_000_000)
        carol = f.customer(s)
        carol_cny = f.account(s, carol)
        payee = payments.save_payee(
            s,
            customer_id=world.alice,
            data=PayeeCreate(type="atrium", account_number=world.bob_cny.number, account_name="Zhang San"),
        )
    over_limit = of.create(
        db, world.alice, of.body(world.alice_cny.id, _to_bob(world), amount_minor=6_000_000)
    )
    to_closed = of.create(
        db, world.alice, of.body(world.alice_cny.id, {"type": "atrium", "account_number": carol_cny.number})
    )
    to_payee = of.create(
        db, world.alice, of.body(world.alice_cny.id, {"type": "payee", "payee_id": payee.id})
    )
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=carol, account_id=carol_cny.id)
        payments.delete_payee(s, customer_id=world.alice, payee_id=payee.id)
    assert of.run(db).failed == 3
    codes = {
        o.id: of.detail(db, world.alice, o.id).executions[0].failure_code
        for o in (over_limit, to_closed, to_payee)
    }
    assert codes == {
        over_limit.id: "limit-exceeded",
        to_closed.id: "account-closed",
        to_payee.id: "payee-not-found",
    }
    assert of.transfer_count(db) == 0 and f.ledger_ok(db)


def test_a_monthly_order_on_the_31st_pays_at_each_months_end(db, world, frozen) -> None:
    order = of.create(
        db,
        world.alice,
        of.body(
            world.alice_cny.id,
            {"type": "own", "account_id": world.alice_savings.id},
            frequency="monthly",
            day_of_month=31,
            count=3,
        ),
    )
    frozen.set(_days(120))  # mid-September: May 31, June 30, July 31 are all due
    assert of.run(db).paid == 3
    got = of.detail(db, world.alice, order.id)
    assert [e.occurrence_on for e in reversed(got.executions)] == [
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    ]
    assert got.status == "completed"
    with db.session() as s:
        assert f.balance(s, world.alice_savings.id)[0] == 3_000


def test_an_order_to_an_external_payee_is_sent_to_the_clearing_rail(db, world) -> None:
    with db.unit_of_work() as s:
        payee = payments.save_payee(
            s,
            customer_id=world.alice,
            data=PayeeCreate(
                type="external", bank_code="WLKB", account_number="6230000000001234", account_name="Li Si"
            ),
        )
    order = of.create(db, world.alice, of.body(world.alice_cny.id, {"type": "payee", "payee_id": payee.id}))
    assert of.run(db).paid == 1
    (execution,) = of.detail(db, world.alice, order.id).executions
    (t,) = of.transfers(db)
    assert (execution.status, execution.transfer_id) == ("sent", t.id)
    assert (t.kind, t.status, t.channel) == ("interbank", "pending", "scheduled")
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id) == (100_000, 99_000)  # held until the rail settles
    assert f.ledger_ok(db)
