"""/api/v1/accounts over HTTP: idempotent opening, per-object authorisation (IDOR), statements, exports,
and bad input as 422 problems (never a 500)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from atrium.identity import service as identity
from tests.accounts import factories as f

API = "/api/v1/accounts"


def _login(client, db, username: str, display_name: str = "张三") -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        identity.create_customer(s, username=username, password="pw-12345678", display_name=display_name)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": "pw-12345678"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _open(client, headers, key: str = "open-key-0001", **body):  # type: ignore[no-untyped-def]
    payload = {"product": "current", "currency": "CNY"} | body
    return client.post(API, json=payload, headers=headers | {"Idempotency-Key": key})


@pytest.fixture()
def alice(client, db):  # type: ignore[no-untyped-def]
    return _login(client, db, "alice")


@pytest.fixture()
def bob(client, db):  # type: ignore[no-untyped-def]
    return _login(client, db, "bob", "Bob Smith")


def _problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/" + code), body
    return body


def test_open_is_idempotent_and_lists(client, alice) -> None:
    r = _open(client, alice, product="savings", nickname="Rainy day")
    assert r.status_code == 201, r.text
    acct = r.json()
    assert acct["product"] == "savings" and acct["status"] == "open" and acct["booked_minor"] == 0
    assert acct["masked_number"].startswith("6222 **** **** ")
    again = _open(client, alice, product="savings", nickname="Rainy day")
    assert again.status_code == 201 and again.json() == acct  # the same account, not a second one
    _problem(_open(client, alice, product="current"), 409, "idempotency-key-reused")
    listed = client.get(API, headers=alice)
    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [acct["id"]]
    got = client.get(f"{API}/{acct['id']}", headers=alice)
    assert got.status_code == 200 and got.json() == acct


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        ({"product": "gold", "currency": "CNY"}, {}, "validation-failed"),
        ({"product": "savings", "currency": "JPY"}, {}, "invalid-account-request"),
        ({"product": "savings", "currency": "cny"}, {}, "validation-failed"),
        ({"product": "current", "currency": "CNY", "extra": 1}, {}, "validation-failed"),
        ({"product": "current", "currency": "CNY", "nickname": "x" * 41}, {}, "validation-failed"),
        ({"product": "current", "currency": "CNY"}, {"Idempotency-Key": "short"}, "validation-failed"),
    ],
)
def test_bad_open_requests_are_422_problems(client, alice, body, headers, code) -> None:
    h = alice | {"Idempotency-Key": "open-key-bad1"} | headers
    _problem(client.post(API, json=body, headers=h), 422, code)
    assert client.get(API, headers=alice).json() == []  # nothing half-written


def test_open_needs_an_idempotency_key_and_a_session(client, alice) -> None:
    _problem(
        client.post(API, json={"product": "current", "currency": "CNY"}, headers=alice),
        422,
        "validation-failed",
    )
    client.cookies.clear()  # the login also set a session cookie
    _problem(client.get(API), 401, "unauthenticated")


def test_customer_b_cannot_see_or_touch_a_s_account(client, db, alice, bob) -> None:
    acct = _open(client, alice).json()
    base = f"{API}/{acct['id']}"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/statement"),
        ("GET", f"{base}/statement.csv"),
        ("GET", f"{base}/statement.pdf"),
        ("POST", f"{base}/close"),
        ("POST", f"{base}/interest/pay"),
        ("PATCH", base),
    ]:
        kwargs = {"json": {"nickname": "mine"}} if method == "PATCH" else {}
        r = client.request(method, path, headers=bob, **kwargs)
        theirs = _problem(r, 404, "account-not-found")
        missing = _problem(
            client.request(method, path.replace(acct["id"], "acc_doesnotexist"), headers=bob, **kwargs),
            404,
            "account-not-found",
        )
        assert theirs["detail"] == missing["detail"]  # indistinguishable from a missing account
    assert client.get(API, headers=bob).json() == []
    assert client.get(base, headers=alice).json()["nickname"] is None  # bob's PATCH changed nothing


def test_lookup_by_number_shows_a_masked_name(client, db, alice, bob) -> None:
    acct = _open(client, alice).json()
    r = client.get(f"{API}/lookup", params={"number": acct["number"]}, headers=bob)
    assert r.status_code == 200
    assert r.json() == {
        "id": acct["id"],
        "currency": "CNY",
        "status": "open",
        "masked_number": acct["masked_number"],
        "masked_owner_name": "*三",
    }
    _problem(
        client.get(f"{API}/lookup", params={"number": "1234"}, headers=bob), 422, "invalid-account-number"
    )


def test_close_over_http(client, db, alice) -> None:
    acct = _open(client, alice).json()
    with db.unit_of_work() as s:
        from atrium.accounts import service

        f.deposit(s, service.get_by_id(s, acct["id"]), 4_200)
    body = _problem(client.post(f"{API}/{acct['id']}/close", headers=alice), 422, "account-not-empty")
    assert "42.00 CNY" in body["detail"] and body["booked_minor"] == 4_200
    with db.unit_of_work() as s:
        f.withdraw(s, service.get_by_id(s, acct["id"]), 4_200)
    r = client.post(f"{API}/{acct['id']}/close", headers=alice)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    _problem(client.post(f"{API}/{acct['id']}/interest/pay", headers=alice), 422, "account-closed")


def test_statement_filters_and_cursor_over_http(client, db, alice) -> None:
    acct = _open(client, alice).json()
    with db.unit_of_work() as s:
        from atrium.accounts import service

        a = service.get_by_id(s, acct["id"])
        for i in range(5):
            f.deposit(
                s, a, 100 * (i + 1), description=f"工资 {i}", at=datetime(2025, 1, 10 + i, 4, tzinfo=UTC)
            )
        f.withdraw(s, a, 50, description="coffee", at=datetime(2025, 1, 20, 4, tzinfo=UTC))
    url = f"{API}/{acct['id']}/statement"
    seen, cursor = [], None
    while True:
        r = client.get(
            url,
            params={"limit": 2, "direction": "in"} | ({"cursor": cursor} if cursor else {}),
            headers=alice,
        )
        assert r.status_code == 200, r.text
        seen += [e["amount_minor"] for e in r.json()["entries"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [500, 400, 300, 200, 100]
    r = client.get(
        url,
        params={"q": "工资", "from": "2025-01-11", "to": "2025-01-12", "kind": ["deposit"]},
        headers=alice,
    )
    assert [e["amount_minor"] for e in r.json()["entries"]] == [300, 200]
    r = client.get(url, params={"min_amount_minor": 40, "max_amount_minor": 60}, headers=alice)
    assert [(e["amount_minor"], e["direction"]) for e in r.json()["entries"]] == [(50, "out")]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2025-02-30"}, "validation-failed"),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "invalid-statement-query"),
        ({"direction": "sideways"}, "validation-failed"),
        ({"limit": 0}, "validation-failed"),
        ({"limit": 1000}, "validation-failed"),
        ({"min_amount_minor": -5}, "validation-failed"),
        ({"min_amount_minor": 9, "max_amount_minor": 1}, "invalid-statement-query"),
        ({"cursor": "not-a-cursor"}, "invalid-statement-query"),
        ({"q": ""}, "validation-failed"),
    ],
)
def test_bad_statement_queries_are_422_problems(client, alice, params, code) -> None:
    acct = _open(client, alice).json()
    _problem(client.get(f"{API}/{acct['id']}/statement", params=params, headers=alice), 422, code)


def test_csv_and_pdf_exports(client, db, alice) -> None:
    acct = _open(client, alice, currency="USD").json()
    with db.unit_of_work() as s:
        from atrium.accounts import service

        f.deposit(
            s,
            service.get_by_id(s, acct["id"]),
            123_456,
            description="工资 salary",
            at=datetime(2025, 1, 5, 4, tzinfo=UTC),
        )
    params = {"from": "2025-01-01", "to": "2025-01-31"}
    r = client.get(f"{API}/{acct['id']}/statement.csv", params=params, headers=alice)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="statement-' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "交易时间"  # the customer's locale (zh) picks the headers
    assert rows[1][1:6] == ["工资 salary", "deposit", "1234.56", "", "1234.56"]
    en = client.get(f"{API}/{acct['id']}/statement.csv", params=params | {"lang": "en"}, headers=alice)
    assert en.content.decode("utf-8-sig").startswith("Date and time")
    pdf = client.get(f"{API}/{acct['id']}/statement.pdf", params=params, headers=alice)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    future = client.get(f"{API}/{acct['id']}/statement.pdf", params={"to": "2999-01-01"}, headers=alice)
    _problem(future, 422, "invalid-statement-query")
    _problem(
        client.get(f"{API}/{acct['id']}/statement.csv", params={"lang": "fr"}, headers=alice),
        422,
        "validation-failed",
    )


def test_rename_over_http(client, alice) -> None:
    acct = _open(client, alice).json()
    r = client.patch(f"{API}/{acct['id']}", json={"nickname": "工资卡"}, headers=alice)
    assert r.status_code == 200 and r.json()["nickname"] == "工资卡"
    _problem(
        client.patch(f"{API}/{acct['id']}", json={"nickname": "a\x00b"}, headers=alice),
        422,
        "invalid-account-request",
    )


def test_openapi_documents_the_response_models(client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    ok = paths["/api/v1/accounts/{account_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/DepositAccountRead")
    assert (
        "text/csv"
        in paths["/api/v1/accounts/{account_id}/statement.csv"]["get"]["responses"]["200"]["content"]
    )
    assert (
        "application/pdf"
        in paths["/api/v1/accounts/{account_id}/statement.pdf"]["get"]["responses"]["200"]["content"]
    )
    page = paths["/api/v1/accounts/{account_id}/statement"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]
    assert page["schema"]["$ref"].endswith("/StatementPage")


def test_concurrent_retries_with_one_key_open_one_account(client, db, alice) -> None:
    """Two copies of one request racing: one account, and each answer is that account or a 409 to retry."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(2)

    def send(key: str):  # type: ignore[no-untyped-def]
        barrier.wait()
        return _open(client, alice, key=key, product="savings")

    for round_ in range(4):
        key = f"race-key-{round_:04d}"
        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(send, [key, key]))
        created = [r.json() for r in responses if r.status_code == 201]
        assert created and all(c == created[0] for c in created)
        for r in responses:
            if r.status_code != 201:
                _problem(r, 409, "idempotency-key-in-flight")
        retry = _open(client, alice, key=key, product="savings")
        assert retry.status_code == 201 and retry.json() == created[0]
    assert len(client.get(API, headers=alice).json()) == 4
