"""/api/v1/orders through the HTTP client: create (idempotent), list, read with executions, cancel, and
404 for anyone else's order."""

from __future__ import annotations

import pytest

from atrium.identity import service as identity
from tests.auth_support import with_step_up
from tests.payments.merchants import factories as mf
from tests.payments.orders import factories as of


@pytest.fixture()
def heads(client, db, world):  # type: ignore[no-untyped-def]
    return {
        "alice": mf.customer_login(client, db, world.alice),
        "bob": mf.customer_login(client, db, world.bob),
    }


def _body(world, **over):  # type: ignore[no-untyped-def]
    return {
        "from_account_id": world.alice_cny.id,
        "to": {"type": "atrium", "account_number": world.bob_cny.number},
        "amount_minor": 1_500,
        "currency": "CNY",
        "memo": "pocket money",
        "frequency": "weekly",
        "start_on": "2024-05-15",
        "count": 2,
    } | over


def _post(client, heads, body, key="orders-key-0001", who="alice"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/orders", json=body, headers=heads[who] | {"Idempotency-Key": key})


def _create(client, db, world, heads, body, key="orders-key-0001"):  # type: ignore[no-untyped-def]
    """Alice sets up a standing order: the bank asks her to confirm it with the SMS code first."""
    with db.session() as s:
        phone = identity.phone_of(identity.get_customer(s, world.alice))  # type: ignore[arg-type]
    assert phone is not None
    headers = heads["alice"] | {"Idempotency-Key": key}
    return with_step_up(client, "POST", "/api/v1/orders", json=body, headers=headers, phone=phone)


def test_create_run_read_and_cancel(client, db, world, heads) -> None:
    r = _create(client, db, world, heads, _body(world))
    assert r.status_code == 201, r.text
    order = r.json()
    again = _post(client, heads, _body(world))
    assert (
        again.status_code == 201 and again.json() == order and again.headers["Idempotent-Replayed"] == "true"
    )
    mf.assert_problem(_post(client, heads, _body(world, amount_minor=1)), 409, "idempotency-key-reused")
    assert [o["id"] for o in client.get("/api/v1/orders", headers=heads["alice"]).json()] == [order["id"]]
    assert client.get("/api/v1/orders?status=cancelled", headers=heads["alice"]).json() == []
    assert of.run(db).paid == 1
    got = client.get(f"/api/v1/orders/{order['id']}", headers=heads["alice"]).json()
    assert got["occurrences_handled"] == 1 and got["next_run_on"] == "2024-05-22"
    assert [(e["status"], e["occurrence_on"]) for e in got["executions"]] == [("paid", "2024-05-15")]
    transfer = client.get(f"/api/v1/transfers/{got['executions'][0]['transfer_id']}", headers=heads["alice"])
    assert transfer.status_code == 200 and transfer.json()["channel"] == "scheduled"
    r = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=heads["alice"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_someone_elses_order_is_404_everywhere(client, db, world, heads) -> None:
    order = _create(client, db, world, heads, _body(world)).json()
    mf.assert_problem(
        client.get(f"/api/v1/orders/{order['id']}", headers=heads["bob"]), 404, "order-not-found"
    )
    mf.assert_problem(
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=heads["bob"]), 404, "order-not-found"
    )
    assert client.get("/api/v1/orders", headers=heads["bob"]).json() == []
    # Bob cannot schedule payments out of Alice's account either.
    mf.assert_problem(_post(client, heads, _body(world), who="bob"), 404, "account-not-found")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=heads["alice"]).json()["status"] == "active"


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"start_on": "2024-05-14"}, "invalid-schedule"),
        ({"frequency": "daily"}, "validation-failed"),
        ({"amount_minor": "15.00"}, "validation-failed"),
        (
            {
                "to": {
                    "type": "external",
                    "bank_code": "ICBK",
                    "account_number": "6222000011112222",
                    "account_name": "X",
                }
            },
            "validation-failed",
        ),
        ({"day_of_month": 40}, "validation-failed"),
        ({"start_on": "9999-12-31"}, "invalid-schedule"),
        ({"frequency": "monthly", "end_on": "2024-05-01"}, "invalid-schedule"),
    ],
)
def test_bad_orders_are_422_problems(client, world, heads, over, code) -> None:
    mf.assert_problem(_post(client, heads, _body(world, **over)), 422, code)


def test_an_order_needs_an_idempotency_key(client, world, heads) -> None:
    r = client.post("/api/v1/orders", json=_body(world), headers=heads["alice"])
    mf.assert_problem(r, 422, "validation-failed")
