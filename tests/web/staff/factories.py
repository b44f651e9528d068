"""Staff users, customers with money and transfers, and signing in — for the console's tests, through the
domain services and the console's own sign-in form only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.kit.ids import new_id
from atrium.payments import service as payments
from atrium.payments.schemas import AtriumDestination
from atrium.staff.permissions import ROLES

PASSWORD = "staff password 1"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass(frozen=True)
class StaffUser:
    id: str
    username: str
    role: str
    display_name: str
    password: str = PASSWORD


def make_staff(
    db: Database, role: str, *, username: str | None = None, display_name: str | None = None
) -> StaffUser:
    name = username or f"{role.replace('_', '-')}-1"
    shown = display_name or f"Test {role.replace('_', ' ').title()}"
    with db.unit_of_work() as s:
        row = identity.create_staff(s, username=name, password=PASSWORD, display_name=shown, role=role)
        return StaffUser(id=row.id, username=name, role=role, display_name=shown)


def make_every_role(db: Database) -> dict[str, StaffUser]:
    return {role: make_staff(db, role) for role in ROLES}


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def sign_in(client, user: StaffUser, *, next_url: str = "/staff") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the console's form, as a browser would (GET for the CSRF token, then POST)."""
    client.cookies.clear()
    page = client.get("/staff/login")
    assert page.status_code == 200, page.text
    r = client.post(
        "/staff/login",
        data={
            "username": user.username,
            "password": user.password,
            "csrf_token": csrf_from(page.text),
            "next": next_url,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def page_token(client, path: str = "/staff") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token a signed-in console page carries (bound to the current session)."""
    r = client.get(path)
    assert r.status_code == 200, r.text
    return csrf_from(r.text)


def pay(
    db: Database,
    *,
    customer_id: str,
    from_account_id: str,
    to_account_number: str,
    amount_minor: int,
    memo: str = "",
) -> str:
    """A transfer to another Atrium account, made through the payments service as the app would make it."""
    with db.unit_of_work() as s:
        done = payments.transfer(
            s,
            customer_id=customer_id,
            idempotency_key=new_id("key"),
            from_account_id=from_account_id,
            to=AtriumDestination(type="atrium", account_number=to_account_number),
            amount_minor=amount_minor,
            currency="CNY",
            memo=memo,
            channel="mobile",
        )
        return done.id
