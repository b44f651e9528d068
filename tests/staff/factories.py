"""Small factories for the staff domain's tests, through the domain services only."""

from __future__ import annotations

from dataclasses import dataclass

from atrium.accounts import service as accounts
from atrium.db.session import Database
from atrium.identity import service as identity


@dataclass(frozen=True)
class Person:
    id: str
    username: str
    display_name: str


def customer(db: Database, username: str, display_name: str, *, account: bool = True) -> Person:
    with db.unit_of_work() as s:
        row = identity.create_customer(
            s, username=username, password="pw for tests 1", display_name=display_name
        )
        if account:
            accounts.open_account(s, customer_id=row.id, product="current", currency="CNY")
        return Person(row.id, username, display_name)


def staff(db: Database, role: str = "operator", username: str = "op") -> Person:
    with db.unit_of_work() as s:
        row = identity.create_staff(
            s, username=username, password="pw for tests 1", display_name="Op", role=role
        )
        return Person(row.id, username, "Op")
