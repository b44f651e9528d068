"""/api/v1/merchants: staff manage merchants (operators write), customers see only the public face."""

from __future__ import annotations

import pytest

from tests.payments.merchants import factories as mf


@pytest.fixture()
def heads(client, db, world):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        operator, manager = mf.staff(s, "operator"), mf.staff(s, "account_manager")
    return {
        "operator": mf.login(client, operator, "staff"),
        "manager": mf.login(client, manager, "staff"),
        "alice": mf.customer_login(client, db, world.alice),
    }


BODY = {"name": "Tea House", "category": "dining", "city": "Hangzhou", "currencies": ["CNY", "USD"]}


def test_an_operator_creates_lists_reads_and_suspends_a_merchant(client, heads) -> None:
    r = client.post("/api/v1/merchants", json=BODY, headers=heads["operator"])
    assert r.status_code == 201, r.text
    m = r.json()
    assert [b["currency"] for b in m["balances"]] == ["CNY", "USD"]
    listed = client.get("/api/v1/merchants", headers=heads["manager"]).json()
    assert [x["id"] for x in listed["items"]] == [m["id"]]
    assert client.get(f"/api/v1/merchants/{m['id']}", headers=heads["manager"]).json() == m
    r = client.patch(f"/api/v1/merchants/{m['id']}", json={"status": "suspended"}, headers=heads["operator"])
    assert r.status_code == 200 and r.json()["status"] == "suspended"


def test_only_operators_write_and_customers_see_only_the_public_face(client, heads) -> None:
    mf.assert_problem(
        client.post("/api/v1/merchants", json=BODY, headers=heads["manager"]), 403, "merchants-forbidden"
    )
    m = client.post("/api/v1/merchants", json=BODY, headers=heads["operator"]).json()
    mf.assert_problem(client.get("/api/v1/merchants", headers=heads["alice"]), 403, "forbidden")
    mf.assert_problem(client.get(f"/api/v1/merchants/{m['id']}", headers=heads["alice"]), 403, "forbidden")
    public = client.get(f"/api/v1/merchants/{m['id']}/public", headers=heads["alice"])
    assert public.status_code == 200
    assert public.json() == {
        "id": m["id"],
        "name": "Tea House",
        "category": "dining",
        "city": "Hangzhou",
        "status": "active",
    }
    mf.assert_problem(
        client.get("/api/v1/merchants/mer_unknown/public", headers=heads["alice"]), 404, "merchant-not-found"
    )
    client.cookies.clear()  # the logins above left a session cookie behind
    mf.assert_problem(client.get(f"/api/v1/merchants/{m['id']}/public"), 401, "unauthenticated")


def test_bad_bodies_are_422_problems(client, heads) -> None:
    for body in (
        BODY | {"category": "weapons"},
        BODY | {"currencies": ["cny"]},
        BODY | {"extra": 1},
        BODY | {"name": "\t\n"},
    ):
        r = client.post("/api/v1/merchants", json=body, headers=heads["operator"])
        mf.assert_problem(r, 422, r.json()["type"].rsplit("/", 1)[-1])
    r = client.patch("/api/v1/merchants/mer_x", json={"status": "closed"}, headers=heads["operator"])
    mf.assert_problem(r, 404, "merchant-not-found")
