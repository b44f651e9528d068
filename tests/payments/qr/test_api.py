"""/api/v1/qr and /api/v1/merchants/{id}/qr through the HTTP client: problems, idempotency, access."""

from __future__ import annotations

import pytest

from tests.payments import factories as f
from tests.payments.merchants import factories as mf
from tests.payments.qr.conftest import retamper


@pytest.fixture()
def heads(client, db, world):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        operator, manager = mf.staff(s, "operator"), mf.staff(s, "account_manager")
    return {
        "operator": mf.login(client, operator, "staff"),
        "manager": mf.login(client, manager, "staff"),
        "alice": mf.customer_login(client, db, world.alice),
        "bob": mf.customer_login(client, db, world.bob),
    }


def _issue(client, heads, shop, **body) -> str:  # type: ignore[no-untyped-def]
    r = client.post(
        f"/api/v1/merchants/{shop.id}/qr",
        json={"reference": "T-1", "amount_minor": 990} | body,
        headers=heads["operator"],
    )
    assert r.status_code == 201, r.text
    assert r.json()["svg"].startswith("<svg")
    return r.json()["payload"]


def _pay(client, heads, who: str, body: dict, key: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/qr/pay", json=body, headers=heads[who] | {"Idempotency-Key": key})


def test_scan_confirm_pay_and_replay(client, db, world, shop, heads) -> None:
    payload = _issue(client, heads, shop)
    parsed = client.post("/api/v1/qr/parse", json={"payload": payload}, headers=heads["alice"])
    assert parsed.status_code == 200, parsed.text
    assert parsed.json()["merchant"]["name"] == "Corner Grocer" and parsed.json()["amount_minor"] == 990
    body = {"payload": payload, "from_account_id": world.alice_cny.id}
    first = _pay(client, heads, "alice", body, "api-qr-0001")
    assert first.status_code == 201, first.text
    assert (first.json()["kind"], first.json()["channel"], first.json()["amount_minor"]) == ("qr", "api", 990)
    again = _pay(client, heads, "alice", body, "api-qr-0001")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    mf.assert_problem(_pay(client, heads, "alice", body, "api-qr-0002"), 409, "qr-already-paid")
    mf.assert_problem(
        _pay(client, heads, "alice", body | {"memo": "x"}, "api-qr-0001"), 409, "idempotency-key-reused"
    )
    assert (
        client.post("/api/v1/qr/parse", json={"payload": payload}, headers=heads["alice"]).json()[
            "already_paid"
        ]
        is True
    )
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id)[0] == 100_000 - 990
    assert f.ledger_ok(db)


def test_every_bad_code_is_a_422_problem_and_moves_nothing(client, db, world, shop, heads, frozen) -> None:
    from datetime import timedelta

    payload = _issue(client, heads, shop, ttl_s=60)
    open_payload = _issue(client, heads, shop, amount_minor=None, reference="stall")
    before = f.snapshot(db, world.ids())
    cases = [
        ("garbage", "qr-malformed", None),
        (retamper(payload, a=1), "qr-bad-signature", None),
        (retamper(payload, m="mer_ELSEWHERE"), "qr-bad-signature", None),
        (open_payload, "qr-amount-required", None),
        (payload, "qr-amount-mismatch", 5),
    ]
    for code_payload, problem, amount in cases:
        body = {"payload": code_payload, "from_account_id": world.alice_cny.id, "amount_minor": amount}
        mf.assert_problem(_pay(client, heads, "alice", body, "api-bad-0001"), 422, problem)
    mf.assert_problem(
        client.post("/api/v1/qr/parse", json={"payload": "ATRQR1.x.y"}, headers=heads["alice"]),
        422,
        "qr-malformed",
    )
    frozen.set(f.NOON + timedelta(minutes=2))
    mf.assert_problem(
        client.post("/api/v1/qr/parse", json={"payload": payload}, headers=heads["alice"]), 422, "qr-expired"
    )
    body = {"payload": payload, "from_account_id": world.alice_cny.id}
    mf.assert_problem(_pay(client, heads, "alice", body, "api-bad-0002"), 422, "qr-expired")
    assert f.snapshot(db, world.ids()) == before
    assert f.ledger_ok(db)


def test_the_qr_switch_off_is_a_422(client, db, world, shop, heads) -> None:
    r = client.put("/api/v1/limits/switches", json={"qr_payments": False}, headers=heads["alice"])
    assert r.status_code == 200, r.text
    body = {"payload": _issue(client, heads, shop), "from_account_id": world.alice_cny.id}
    problem = mf.assert_problem(
        _pay(client, heads, "alice", body, "api-switch-01"), 422, "payment-switch-off"
    )
    assert problem["switch"] == "qr_payments"


def test_paying_from_bobs_account_is_404_and_only_operators_issue(client, db, world, shop, heads) -> None:
    payload = _issue(client, heads, shop)
    body = {"payload": payload, "from_account_id": world.bob_cny.id}
    mf.assert_problem(_pay(client, heads, "alice", body, "api-idor-0001"), 404, "account-not-found")
    r = client.post(f"/api/v1/merchants/{shop.id}/qr", json={"reference": "x"}, headers=heads["manager"])
    mf.assert_problem(r, 403, "merchants-forbidden")
    r = client.post(f"/api/v1/merchants/{shop.id}/qr", json={"reference": "x"}, headers=heads["alice"])
    mf.assert_problem(r, 403, "forbidden")
    r = client.post("/api/v1/qr/parse", json={"payload": payload}, headers=heads["operator"])
    mf.assert_problem(r, 403, "forbidden")
    r = client.post("/api/v1/merchants/mer_missing/qr", json={"reference": "x"}, headers=heads["operator"])
    mf.assert_problem(r, 404, "merchant-not-found")


def test_rotating_the_key_over_the_api_revokes_codes(client, db, world, shop, heads) -> None:
    payload = _issue(client, heads, shop)
    r = client.post(f"/api/v1/merchants/{shop.id}/qr-key", headers=heads["operator"])
    assert r.status_code == 201 and r.json()["merchant_id"] == shop.id
    mf.assert_problem(
        client.post("/api/v1/qr/parse", json={"payload": payload}, headers=heads["alice"]), 422, "qr-revoked"
    )
