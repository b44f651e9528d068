"""/api/v1/limits through the HTTP client: per-object access, problems for bad input, staff roles."""

from __future__ import annotations

import itertools

import pytest

from atrium.identity import service as identity
from atrium.limits import service
from tests.auth_support import api_login, with_step_up
from tests.limits.factories import PASSWORD, customer, staff, yuan

_logins = itertools.count(1)


def login(client, db, *, kind: str = "customer", role: str = "operator") -> tuple[dict[str, str], str]:  # type: ignore[no-untyped-def]
    """A new customer (or staff user with `role`), signed in: (auth headers, subject id)."""
    username = f"limits-api-{kind}-{next(_logins)}"
    with db.unit_of_work() as s:
        subject = customer(s, username) if kind == "customer" else staff(s, role=role, name=username)
    if kind == "customer":
        return api_login(client, username, PASSWORD), subject
    r = client.post("/api/v1/auth/login",
                    json={"username": username, "password": PASSWORD, "kind": kind})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}, subject


def phone_of(db, customer_id: str) -> str:  # type: ignore[no-untyped-def]
    with db.session() as s:
        phone = identity.phone_of(identity.get_customer(s, customer_id))  # type: ignore[arg-type]
    assert phone is not None
    return phone


def assert_problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/" + code), body
    return body


def test_the_limits_page_shows_bank_limits_own_limits_switches_and_usage(client, db) -> None:
    auth, cus = login(client, db)
    with db.unit_of_work() as s:
        service.check_and_reserve(s, customer_id=cus, channel="mobile", method="qr_payment",
                                  amount_minor=yuan(300), currency="CNY")
    r = client.get("/api/v1/limits", params={"currency": "CNY"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["channel"] == "mobile"
    assert body["switches"] == {"online_payments": True, "overseas": False, "night_time": True,
                                "qr_payments": True, "card_not_present": True}
    assert {b["method"] for b in body["bank_limits"]} == {"own_transfer", "internal_transfer",
                                                          "interbank_transfer", "qr_payment"}
    assert body["own_limits"] == []
    qr = next(u for u in body["usage"] if u["method"] == "qr_payment")
    assert (qr["daily_used_minor"], qr["daily_remaining_minor"]) == (yuan(300), yuan(19_700))


def test_a_customer_never_sees_or_changes_another_customers_limits(client, db) -> None:
    alice, _ = login(client, db)
    bob, _ = login(client, db)
    r = client.put("/api/v1/limits/own/interbank_transfer", headers=alice,
                   json={"per_transaction_minor": yuan(1_000), "daily_minor": yuan(2_000)})
    assert r.status_code == 200, r.text
    assert r.json()["raised"] is False and r.json()["changed"] is True
    client.put("/api/v1/limits/switches", headers=alice, json={"night_time": False})
    bob_view = client.get("/api/v1/limits", headers=bob).json()
    assert bob_view["own_limits"] == [] and bob_view["switches"]["night_time"] is True
    assert client.get("/api/v1/limits/changes", headers=bob).json() == []
    alice_view = client.get("/api/v1/limits", headers=alice).json()
    assert alice_view["own_limits"] == [{"method": "interbank_transfer", "currency": "CNY",
                                         "per_transaction_minor": yuan(1_000), "daily_minor": yuan(2_000)}]
    assert alice_view["switches"]["night_time"] is False
    assert [c["setting"] for c in client.get("/api/v1/limits/changes", headers=alice).json()] == [
        "switch:night_time", "own:interbank_transfer:CNY"]


def test_own_limit_above_the_bank_limit_is_a_422_problem(client, db) -> None:
    auth, _ = login(client, db)
    r = client.put("/api/v1/limits/own/qr_payment", headers=auth, json={"daily_minor": yuan(1_000_000)})
    body = assert_problem(r, 422, "own-limit-above-bank-limit")
    assert body["limit"] == "daily" and body["bank_limit_minor"] == yuan(20_000)


def test_raising_an_own_limit_is_flagged(client, db) -> None:
    auth, cus = login(client, db)
    lowered = client.put("/api/v1/limits/own/qr_payment", headers=auth, json={"daily_minor": yuan(1_000)})
    assert lowered.status_code == 200 and lowered.json()["raised"] is False, lowered.text
    # Raising needs a step-up: confirmed with the SMS code, then the same request goes through.
    r = with_step_up(client, "PUT", "/api/v1/limits/own/qr_payment", headers=auth,
                     phone=phone_of(db, cus), json={"daily_minor": yuan(2_000)})
    assert r.status_code == 200, r.text
    assert r.json()["raised"] is True


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/limits/own/cheque", {"daily_minor": 100}),
        ("/api/v1/limits/own/qr_payment", {"daily_minor": -1}),
        ("/api/v1/limits/own/qr_payment", {"daily_minor": "100"}),
        ("/api/v1/limits/own/qr_payment", {"daily_minor": 1.5}),
        ("/api/v1/limits/own/qr_payment", {"daily_minor": 10**16}),
        ("/api/v1/limits/own/qr_payment", {"weekly_minor": 100}),
        ("/api/v1/limits/own/qr_payment", {"currency": "cny"}),
        ("/api/v1/limits/own/qr_payment", {"currency": "XYZ"}),
        ("/api/v1/limits/own/qr_payment", {"per_transaction_minor": 500, "daily_minor": 100}),
        ("/api/v1/limits/switches", {}),
        ("/api/v1/limits/switches", {"overseas": "yes"}),
        ("/api/v1/limits/switches", {"teleport": True}),
    ],
)
def test_bad_input_is_a_422_problem_and_changes_nothing(client, db, path: str, body: dict) -> None:
    auth, _ = login(client, db)
    r = client.put(path, headers=auth, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/limits/changes", headers=auth).json() == []


def test_bad_query_parameters_are_422_problems(client, db) -> None:
    auth, _ = login(client, db)
    assert_problem(client.get("/api/v1/limits", params={"channel": "fax"}, headers=auth), 422,
                   "validation-failed")
    assert_problem(client.get("/api/v1/limits", params={"currency": "XYZ"}, headers=auth), 422,
                   "validation-failed")


def test_limits_need_a_signed_in_customer(client, db) -> None:
    assert_problem(client.get("/api/v1/limits"), 401, "unauthenticated")
    staff_auth, _ = login(client, db, kind="staff")
    assert client.get("/api/v1/limits", headers=staff_auth).status_code == 403


def test_operators_read_and_change_bank_limits(client, db) -> None:
    auth, _ = login(client, db, kind="staff", role="operator")
    params = {"channel": "api", "currency": "USD"}
    rows = client.get("/api/v1/limits/bank", params=params, headers=auth).json()
    assert len(rows) == 4 and {r["channel"] for r in rows} == {"api"}
    r = client.put("/api/v1/limits/bank/mobile/qr_payment/CNY", headers=auth,
                   json={"per_transaction_minor": yuan(2_000), "daily_minor": yuan(10_000),
                         "monthly_minor": yuan(50_000)})
    assert r.status_code == 200, r.text
    cus_auth, _ = login(client, db)
    page = client.get("/api/v1/limits", params={"currency": "CNY"}, headers=cus_auth).json()
    qr = next(b for b in page["bank_limits"] if b["method"] == "qr_payment")
    assert qr["per_transaction_minor"] == yuan(2_000)


def test_bank_limits_are_not_for_other_roles_or_customers(client, db) -> None:
    manager, _ = login(client, db, kind="staff", role="account_manager")
    assert_problem(client.get("/api/v1/limits/bank", headers=manager), 403, "limits-forbidden")
    body = {"per_transaction_minor": 1, "daily_minor": 1, "monthly_minor": 1}
    assert_problem(client.put("/api/v1/limits/bank/mobile/qr_payment/CNY", headers=manager, json=body), 403,
                   "limits-forbidden")
    cus_auth, _ = login(client, db)
    assert client.get("/api/v1/limits/bank", headers=cus_auth).status_code == 403
    operator, _ = login(client, db, kind="staff", role="operator")
    bad = {"per_transaction_minor": 10, "daily_minor": 5, "monthly_minor": 50}
    assert_problem(client.put("/api/v1/limits/bank/mobile/qr_payment/CNY", headers=operator, json=bad), 422,
                   "invalid-limit")
