"""The staff-only ledger read API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from atrium.db.session import Database
from atrium.identity import service as identity
from tests.ledger.factories import customer, deposit

PASSWORD = "a long test password"  # noqa: S105 - a test fixture's password


def login(client: TestClient, db: Database, kind: str) -> dict[str, str]:
    username = f"ledger-{kind}"
    with db.unit_of_work() as s:
        if kind == "staff":
            identity.create_staff(s, username=username, password=PASSWORD, display_name="Ops",
                                  role="operator")
        else:
            identity.create_customer(s, username=username, password=PASSWORD, display_name="Cus")
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD, "kind": kind})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture()
def alice(db: Database) -> tuple[str, str]:
    with db.unit_of_work() as s:
        acct = customer(s, name="alice")
        j = deposit(s, acct.id, 4_200)
    return acct.id, j.id


def test_staff_reads_accounts_entries_journals_and_the_check(client: TestClient, db: Database,
                                                            alice: tuple[str, str]) -> None:
    headers = login(client, db, "staff")
    account_id, journal_id = alice
    r = client.get(f"/api/v1/ledger/accounts/{account_id}", headers=headers)
    assert r.status_code == 200 and r.json()["booked_minor"] == 4_200
    r = client.get(f"/api/v1/ledger/accounts/{account_id}/entries", params={"direction": "credit"},
                   headers=headers)
    assert [e["journal_id"] for e in r.json()["items"]] == [journal_id]
    assert client.get(f"/api/v1/ledger/journals/{journal_id}", headers=headers).json()["id"] == journal_id
    assert client.get("/api/v1/ledger/trial-balance", headers=headers).json()["CNY"]["balanced"] is True
    assert client.get("/api/v1/ledger/check", headers=headers).json()["ok"] is True


def test_problems_not_500s(client: TestClient, db: Database, alice: tuple[str, str]) -> None:
    headers = login(client, db, "staff")
    r = client.get("/api/v1/ledger/accounts/lac_missing", headers=headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = client.get(f"/api/v1/ledger/accounts/{alice[0]}/entries", params={"cursor": "!!"}, headers=headers)
    assert r.status_code == 422
    r = client.get(f"/api/v1/ledger/accounts/{alice[0]}/entries", params={"since": "2030-01-01T00:00:00"},
                   headers=headers)
    assert r.status_code == 422  # a naive time is ambiguous


def test_customers_and_strangers_are_kept_out(
    client: TestClient, db: Database, alice: tuple[str, str]
) -> None:
    assert client.get("/api/v1/ledger/check").status_code == 401
    headers = login(client, db, "customer")
    assert client.get(f"/api/v1/ledger/accounts/{alice[0]}", headers=headers).status_code == 403
