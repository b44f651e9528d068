"""/api/v1 transfers, payees and banks through the HTTP client: idempotency, per-object access, and a
problem response (with nothing changed) for every rejection."""

from __future__ import annotations

import itertools

import pytest

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.payments import service
from tests.auth_support import api_login, phone_for, with_step_up
from tests.payments import factories as f

_keys = itertools.count(1)


def login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Password, then the SMS code: a level-2 session, as money movement needs."""
    return api_login(client, username, f.PASSWORD)


@pytest.fixture()
def names(db, world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from atrium.identity import service as identity

    with db.session() as s:
        pairs = (("alice", world.alice), ("bob", world.bob))
        return {who: identity.get_customer(s, c).username for who, c in pairs}  # type: ignore[union-attr]


@pytest.fixture()
def auth(client, names):  # type: ignore[no-untyped-def]
    return {"alice": login(client, names["alice"]), "bob": login(client, names["bob"])}


def key_header(auth: dict[str, str], key: str | None = None) -> dict[str, str]:
    return auth | {"Idempotency-Key": key or f"api-key-{next(_keys):06}"}


def own_body(w, amount=1_000, **over):  # type: ignore[no-untyped-def]
    return {
        "from_account_id": w.alice_cny.id,
        "to": {"type": "own", "account_id": w.alice_savings.id},
        "amount_minor": amount,
        "currency": "CNY",
        "memo": "to savings",
    } | over


def assert_problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/" + code), body
    return body


def test_transfer_then_read_it_back(client, db, world, auth) -> None:
    r = client.post("/api/v1/transfers", json=own_body(world, 2_500), headers=key_header(auth["alice"]))
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["kind"], t["status"], t["channel"], t["amount_minor"]) == ("own", "completed", "api", 2_500)
    got = client.get(f"/api/v1/transfers/{t['id']}", headers=auth["alice"])
    assert got.status_code == 200 and got.json() == t
    listed = client.get("/api/v1/transfers", headers=auth["alice"]).json()
    assert [x["id"] for x in listed["items"]] == [t["id"]] and listed["next_cursor"] is None
    with db.session() as s:
        assert f.balance(s, world.alice_savings.id)[0] == 2_500


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(client, db, world, auth) -> None:
    headers = key_header(auth["alice"], "replay-key-0001")
    first = client.post("/api/v1/transfers", json=own_body(world, 3_000), headers=headers)
    again = client.post("/api/v1/transfers", json=own_body(world, 3_000), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    with db.session() as s:
        assert f.balance(s, world.alice_cny.id)[0] == 97_000


def test_the_same_key_with_another_body_is_409(client, db, world, auth) -> None:
    headers = key_header(auth["alice"], "conflict-key-01")
    assert client.post("/api/v1/transfers", json=own_body(world, 3_000), headers=headers).status_code == 201
    before = f.snapshot(db, world.ids())
    r = client.post("/api/v1/transfers", json=own_body(world, 3_001), headers=headers)
    assert_problem(r, 409, "idempotency-key-reused")
    assert f.snapshot(db, world.ids()) == before


def test_the_idempotency_key_is_required(client, db, world, auth) -> None:
    r = client.post("/api/v1/transfers", json=own_body(world), headers=auth["alice"])
    assert_problem(r, 422, "validation-failed")
    r = client.post(
        "/api/v1/transfers", json=own_body(world), headers=auth["alice"] | {"Idempotency-Key": "short"}
    )
    assert_problem(r, 422, "validation-failed")


def test_transfers_need_a_signed_in_customer(client, world) -> None:
    assert_problem(
        client.post("/api/v1/transfers", json=own_body(world), headers={"Idempotency-Key": "k" * 10}),
        401,
        "unauthenticated",
    )
    assert_problem(client.get("/api/v1/transfers"), 401, "unauthenticated")
    assert_problem(client.get("/api/v1/banks"), 401, "unauthenticated")


def test_someone_elses_account_transfer_or_payee_is_404(client, db, world, auth, names) -> None:
    t = client.post("/api/v1/transfers", json=own_body(world), headers=key_header(auth["alice"])).json()
    payee = with_step_up(
        client,
        "POST",
        "/api/v1/payees",
        headers=auth["alice"],
        phone=phone_for(names["alice"]),
        json={
            "type": "external",
            "bank_code": "HCBK",
            "account_number": "6230000000001234",
            "account_name": "Li Lei",
        },
    )
    assert payee.status_code == 201, payee.text
    before = f.snapshot(db, world.ids())
    bob = auth["bob"]
    # Paying from Alice's account, or to a payee of hers, with Bob's session.
    body = own_body(world) | {"to": {"type": "atrium", "account_number": world.bob_cny.number}}
    assert_problem(
        client.post("/api/v1/transfers", json=body, headers=key_header(bob)), 404, "account-not-found"
    )
    body = {
        "from_account_id": world.bob_cny.id,
        "to": {"type": "payee", "payee_id": payee.json()["id"]},
        "amount_minor": 1,
        "currency": "CNY",
    }
    assert_problem(
        client.post("/api/v1/transfers", json=body, headers=key_header(bob)), 404, "payee-not-found"
    )
    assert_problem(client.get(f"/api/v1/transfers/{t['id']}", headers=bob), 404, "transfer-not-found")
    pid = payee.json()["id"]
    assert_problem(
        client.patch(f"/api/v1/payees/{pid}", json={"nickname": "x"}, headers=bob), 404, "payee-not-found"
    )
    assert_problem(client.delete(f"/api/v1/payees/{pid}", headers=bob), 404, "payee-not-found")
    assert client.get("/api/v1/transfers", headers=bob).json()["items"] == []
    assert client.get("/api/v1/payees", headers=bob).json() == []
    assert f.snapshot(db, world.ids()) == before


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"amount_minor": 0}, 422, "validation-failed"),
        ({"amount_minor": -100}, 422, "validation-failed"),
        ({"amount_minor": MAX_AMOUNT_MINOR + 1}, 422, "validation-failed"),
        ({"amount_minor": 10**40}, 422, "validation-failed"),
        ({"amount_minor": "100"}, 422, "validation-failed"),
        ({"amount_minor": 1.5}, 422, "validation-failed"),
        ({"currency": "cny"}, 422, "validation-failed"),
        ({"currency": "XXX"}, 422, "invalid-payment-details"),
        ({"currency": "USD"}, 422, "currency-mismatch"),
        ({"memo": "m" * 141}, 422, "validation-failed"),
        ({"surprise": 1}, 422, "validation-failed"),
        ({"to": {"type": "carrier-pigeon"}}, 422, "validation-failed"),
        ({"to": {"type": "own", "account_id": "acc_nope"}}, 404, "account-not-found"),
        ({"from_account_id": "acc_nope"}, 404, "account-not-found"),
        ({"to": {"type": "atrium", "account_number": "12345"}}, 422, "invalid-account-number"),
        (
            {
                "to": {
                    "type": "external",
                    "bank_code": "NOPE",
                    "account_number": "6230000000001234",
                    "account_name": "Li",
                }
            },
            422,
            "unknown-bank",
        ),
        (
            {
                "to": {
                    "type": "external",
                    "bank_code": "HCBK",
                    "account_number": "6230000000001234",
                    "account_name": "",
                }
            },
            422,
            "validation-failed",
        ),
        ({"amount_minor": 100_001}, 422, "insufficient-funds"),
    ],
)
def test_bad_requests_are_problems_and_change_nothing(client, db, world, auth, change, status, code) -> None:  # type: ignore[no-untyped-def]
    before = f.snapshot(db, world.ids())
    r = client.post("/api/v1/transfers", json=own_body(world) | change, headers=key_header(auth["alice"]))
    assert_problem(r, status, code)
    assert f.snapshot(db, world.ids()) == before
    assert f.ledger_ok(db)


def test_insufficient_funds_names_the_available_balance(client, db, world, auth) -> None:
    r = client.post("/api/v1/transfers", json=own_body(world, 100_001), headers=key_header(auth["alice"]))
    body = assert_problem(r, 422, "insufficient-funds")
    assert (body["available_minor"], body["currency"], body["account_id"]) == (
        100_000,
        "CNY",
        world.alice_cny.id,
    )


def test_a_limit_refusal_names_the_limit_and_what_is_left(client, db, world, auth, names) -> None:
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 5_000_000)
    body = own_body(world, 2_000_001) | {"to": {"type": "atrium", "account_number": world.bob_cny.number}}
    before = f.snapshot(db, world.ids())
    # A large transfer: confirmed with a second factor first, then refused by the limit.
    r = with_step_up(
        client,
        "POST",
        "/api/v1/transfers",
        json=body,
        headers=key_header(auth["alice"]),
        phone=phone_for(names["alice"]),
    )
    problem = assert_problem(r, 422, "limit-exceeded")
    # The open API's bank limit for internal transfers: 20,000 CNY a transaction.
    assert (problem["limit"], problem["channel"], problem["limit_minor"]) == (
        "per_transaction",
        "api",
        2_000_000,
    )
    assert "remaining_minor" in problem
    assert f.snapshot(db, world.ids()) == before


def test_an_interbank_transfer_through_the_api_settles_later(client, db, world, auth, rail) -> None:
    body = own_body(world, 4_000) | {
        "to": {
            "type": "external",
            "bank_code": "skyb",
            "account_number": "6230-0000-0000-1234",
            "account_name": "Li Lei",
        }
    }
    r = client.post("/api/v1/transfers", json=body, headers=key_header(auth["alice"]))
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["status"], t["to"]["bank_code"], t["to"]["masked_account_number"]) == (
        "pending",
        "SKYB",
        "••1234",
    )
    service.process_rail(db, rail)
    got = client.get(f"/api/v1/transfers/{t['id']}", headers=auth["alice"]).json()
    assert got["status"] == "settled" and got["settled_at"]
    pending = client.get("/api/v1/transfers", params={"status": "pending"}, headers=auth["alice"]).json()
    assert pending["items"] == []


def test_transfer_listing_pages_with_a_cursor(client, db, world, auth) -> None:
    ids = [
        client.post(
            "/api/v1/transfers", json=own_body(world, 10 + i), headers=key_header(auth["alice"])
        ).json()["id"]
        for i in range(5)
    ]
    page = client.get("/api/v1/transfers", params={"limit": 2}, headers=auth["alice"]).json()
    seen = [x["id"] for x in page["items"]]
    while page["next_cursor"]:
        page = client.get(
            "/api/v1/transfers", params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth["alice"]
        ).json()
        seen += [x["id"] for x in page["items"]]
    assert seen == list(reversed(ids))
    assert_problem(
        client.get("/api/v1/transfers", params={"cursor": "not-a-cursor!"}, headers=auth["alice"]),
        422,
        "validation-failed",
    )
    assert_problem(
        client.get("/api/v1/transfers", params={"limit": 0}, headers=auth["alice"]), 422, "validation-failed"
    )


def test_payees_over_http(client, db, world, auth, names) -> None:
    alice = auth["alice"]
    r = with_step_up(
        client,
        "POST",
        "/api/v1/payees",
        headers=alice,
        phone=phone_for(names["alice"]),
        json={
            "type": "atrium",
            "account_number": world.bob_cny.number,
            "account_name": "Zhang San",
            "nickname": "Bob",
        },
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert_problem(
        client.post(
            "/api/v1/payees",
            headers=alice,
            json={"type": "atrium", "account_number": world.bob_cny.number, "account_name": "Zhang San"},
        ),
        409,
        "payee-exists",
    )
    assert_problem(
        client.post(
            "/api/v1/payees",
            headers=alice,
            json={"type": "external", "bank_code": "HCBK", "account_number": "x", "account_name": "Li"},
        ),
        422,
        "invalid-payment-details",
    )
    r = client.patch(f"/api/v1/payees/{pid}", headers=alice, json={"nickname": "Bobby"})
    assert r.status_code == 200 and r.json()["nickname"] == "Bobby"
    assert_problem(
        client.patch(f"/api/v1/payees/{pid}", headers=alice, json={"nickname": ""}), 422, "validation-failed"
    )
    body = {
        "from_account_id": world.alice_cny.id,
        "to": {"type": "payee", "payee_id": pid},
        "amount_minor": 700,
        "currency": "CNY",
    }
    t = client.post("/api/v1/transfers", json=body, headers=key_header(alice))
    assert t.status_code == 201 and t.json()["to"]["display"] == "Bobby"
    assert [p["id"] for p in client.get("/api/v1/payees", headers=alice).json()] == [pid]
    assert client.delete(f"/api/v1/payees/{pid}", headers=alice).status_code == 204
    assert client.get("/api/v1/payees", headers=alice).json() == []
    assert_problem(client.delete(f"/api/v1/payees/{pid}", headers=alice), 404, "payee-not-found")


def test_banks_lists_the_rails_participants_but_not_atrium(client, world, auth) -> None:
    r = client.get("/api/v1/banks", headers=auth["alice"])
    assert r.status_code == 200
    codes = [b["code"] for b in r.json()]
    assert "HCBK" in codes and "ATRM" not in codes
    assert all(b["currencies"] and b["name"] and b["local_name"] for b in r.json())
