"""Creating, reading and cancelling orders: checked up front, idempotent, each customer's own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.accounts.errors import AccountNotFound
from atrium.kit.errors import AtriumError, IdempotencyConflict
from atrium.payments import service as payments
from atrium.payments.errors import CurrencyMismatch, SameAccount, UnknownDestinationAccount
from atrium.payments.orders import service as orders
from atrium.payments.orders.errors import InvalidSchedule, OrderFinished, OrderNotFound
from atrium.payments.schemas import PayeeCreate
from tests.payments import factories as f
from tests.payments.orders import factories as of
from tests.payments.orders.factories import TODAY


def test_orders_to_own_atrium_and_payee_destinations(db, world) -> None:
    own = of.create(
        db,
        world.alice,
        of.body(
            world.alice_cny.id,
            {"type": "own", "account_id": world.alice_savings.id},
            frequency="weekly",
            count=4,
        ),
    )
    assert (own.status, own.frequency, own.next_run_on, own.to_type) == ("active", "weekly", TODAY, "own")
    atrium = of.create(
        db,
        world.alice,
        of.body(
            world.alice_cny.id,
            {"type": "atrium", "account_number": world.bob_cny.number},
            frequency="monthly",
            day_of_month=31,
            start_on=(TODAY + timedelta(days=1)).isoformat(),
        ),
    )
    assert atrium.next_run_on == TODAY.replace(day=31) and atrium.day_of_month == 31
    with db.unit_of_work() as s:
        payee = payments.save_payee(
            s,
            customer_id=world.alice,
            data=PayeeCreate(
                type="atrium",
                account_number=world.bob_cny.number,
                account_name="Zhang San",
                nickname="Landlord",
            ),
        )
    to_payee = of.create(
        db, world.alice, of.body(world.alice_cny.id, {"type": "payee", "payee_id": payee.id})
    )
    assert (to_payee.to_display, to_payee.frequency, to_payee.count) == ("Landlord", "once", None)
    with db.session() as s:
        listed = orders.list_orders(s, customer_id=world.alice)
        assert [o.id for o in listed] == [to_payee.id, atrium.id, own.id]
        assert orders.list_orders(s, customer_id=world.bob) == []
    assert of.detail(db, world.alice, own.id).executions == []


def test_a_retried_create_returns_the_same_order_and_a_reused_key_conflicts(db, world) -> None:
    data = of.body(world.alice_cny.id, {"type": "own", "account_id": world.alice_savings.id})
    first = of.create(db, world.alice, data, key="create-key-1")
    assert of.create(db, world.alice, data, key="create-key-1") == first
    with pytest.raises(IdempotencyConflict):
        of.create(db, world.alice, data.model_copy(update={"amount_minor": 2}), key="create-key-1")


@pytest.mark.parametrize(
    ("over", "error"),
    [
        ({"start_on": (TODAY - timedelta(days=1)).isoformat()}, InvalidSchedule),
        ({"frequency": "once", "count": 3}, InvalidSchedule),
        ({"frequency": "weekly", "day_of_month": 3}, InvalidSchedule),
        ({"frequency": "monthly", "day_of_month": 10, "end_on": "2024-06-01"}, InvalidSchedule),
        ({"currency": "USD"}, CurrencyMismatch),
        ({"to": {"type": "own", "account_id": "SELF"}}, SameAccount),
        ({"to": {"type": "atrium", "account_number": "UNUSED"}}, UnknownDestinationAccount),
        ({"to": {"type": "own", "account_id": "BOB"}}, AccountNotFound),
        ({"from_account_id": "BOB"}, AccountNotFound),
        ({"to": {"type": "payee", "payee_id": "pye_nope"}}, AtriumError),
    ],
)
def test_bad_orders_are_refused_and_nothing_is_written(db, world, over, error) -> None:
    subst = {
        "SELF": world.alice_cny.id,
        "BOB": world.bob_cny.id,
        "UNUSED": f.unused_number(world.bob_cny.number),
    }
    fields = {
        "from_account_id": world.alice_cny.id,
        "to": {"type": "own", "account_id": world.alice_savings.id},
    }
    for name, value in over.items():
        if name == "to":
            value = {k: subst.get(v, v) for k, v in value.items()}
        elif name == "from_account_id":
            value = subst[value]
        fields[name] = value
    with pytest.raises(error) as caught:
        of.create(db, world.alice, of.body(**fields))
    assert 400 <= caught.value.status < 500  # type: ignore[attr-defined]
    with db.session() as s:
        assert orders.list_orders(s, customer_id=world.alice) == []


def test_someone_elses_order_is_not_found(db, world) -> None:
    order = of.create(
        db, world.alice, of.body(world.alice_cny.id, {"type": "own", "account_id": world.alice_savings.id})
    )
    with pytest.raises(OrderNotFound):
        of.detail(db, world.bob, order.id)
    with pytest.raises(OrderNotFound), db.unit_of_work() as s:
        orders.cancel_order(s, customer_id=world.bob, order_id=order.id)
    assert of.detail(db, world.alice, order.id).status == "active"


def test_cancel_stops_an_order_and_is_idempotent_but_a_completed_order_stays_completed(db, world) -> None:
    to_savings = {"type": "own", "account_id": world.alice_savings.id}
    order = of.create(db, world.alice, of.body(world.alice_cny.id, to_savings, frequency="weekly"))
    with db.unit_of_work() as s:
        cancelled = orders.cancel_order(s, customer_id=world.alice, order_id=order.id)
        assert (cancelled.status, cancelled.next_run_on) == ("cancelled", None)
    with db.unit_of_work() as s:
        assert orders.cancel_order(s, customer_id=world.alice, order_id=order.id) == cancelled
    assert of.run(db).paid == 0 and of.transfer_count(db) == 0
    done = of.create(db, world.alice, of.body(world.alice_cny.id, to_savings))
    assert of.run(db).paid == 1 and of.detail(db, world.alice, done.id).status == "completed"
    with pytest.raises(OrderFinished), db.unit_of_work() as s:
        orders.cancel_order(s, customer_id=world.alice, order_id=done.id)
