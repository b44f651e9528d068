"""Factories for merchant tests (and QR tests): merchants, staff users, signed-in API headers."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.payments.merchants import service as merchants
from atrium.payments.merchants.schemas import MerchantRead
from tests.auth_support import api_login
from tests.payments import factories as f

_seq = count(1)


def merchant(
    session: Session,
    *,
    name: str = "Corner Grocer",
    category: str = "groceries",
    city: str = "Shanghai",
    currencies: tuple[str, ...] = ("CNY",),
) -> MerchantRead:
    return merchants.create_merchant(session, name=name, category=category, city=city, currencies=currencies)


def staff(session: Session, role: str = "operator") -> str:
    """A staff user; returns the username (the password is f.PASSWORD)."""
    username = f"mer-staff-{next(_seq)}"
    identity.create_staff(session, username=username, password=f.PASSWORD, display_name="Staff", role=role)
    return username


def login(client, username: str, kind: str = "customer") -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Staff: the password. Customers: the password, then the SMS code (a level-2 session)."""
    if kind == "customer":
        return api_login(client, username, f.PASSWORD)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": f.PASSWORD, "kind": kind})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def customer_login(client, db, customer_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        username = identity.get_customer(s, customer_id).username  # type: ignore[union-attr]
    return login(client, username)


def assert_problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/" + code), body
    return body
