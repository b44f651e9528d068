"""Seed customers, accounts and money for the mobile web tests, through the domain services only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.kit.ids import new_id
from atrium.ledger import service as ledger

PASSWORD = "correct horse battery"


@dataclass
class Seeded:
    customer_id: str
    username: str
    password: str
    accounts: list[DepositAccountRead] = field(default_factory=list)


def deposit(
    db: Database, account: DepositAccountRead, amount_minor: int, description: str = "Salary"
) -> None:
    """Money in from outside: the bank's settlement (asset) account pays the deposit (liability)."""
    with db.unit_of_work() as s:
        settlement = ledger.get_or_create_internal(
            s,
            code=f"bank:settlement:{account.currency}",
            name=f"Settlement {account.currency}",
            type="asset",
            currency=account.currency,
        )
        ledger.post_transfer(
            s,
            idempotency_key=new_id("dep"),
            debit_account_id=settlement.id,
            credit_account_id=account.ledger_account_id,
            amount_minor=amount_minor,
            currency=account.currency,
            kind="deposit",
            description=description,
        )


def seed_customer(
    db: Database,
    *,
    username: str = "mei",
    display_name: str = "王美",
    balance_minor: int = 1_250_000,
    savings: bool = True,
    locale: str = "zh",
) -> Seeded:
    """A customer with a CNY current account holding `balance_minor` and (optionally) an empty savings one."""
    with db.unit_of_work() as s:
        customer = identity.create_customer(
            s, username=username, password=PASSWORD, display_name=display_name, locale=locale
        )
        current = accounts.open_account(
            s, customer_id=customer.id, product="current", currency="CNY", nickname="日常账户"
        )
        opened = [current]
        if savings:
            opened.append(
                accounts.open_account(s, customer_id=customer.id, product="savings", currency="CNY")
            )
        customer_id = customer.id
    if balance_minor:
        deposit(db, current, balance_minor)
    with db.read_session() as s:
        fresh = [accounts.get_owned(s, customer_id=customer_id, account_id=a.id) for a in opened]
    return Seeded(customer_id=customer_id, username=username, password=PASSWORD, accounts=fresh)


# A form's hidden field, or the htmx header every page sets on <body>.
_CSRF = re.compile(r'(?:name="csrf_token" value="|"X-CSRF-Token": ")([0-9a-f]{64})"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def login(client, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form, as a browser would (GET for the CSRF token, then POST)."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": seeded.username,
            "password": seeded.password,
            "csrf_token": csrf_from(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def page_token(client, path: str = "/settings") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token a signed-in page carries (bound to the current session)."""
    r = client.get(path)
    assert r.status_code == 200, r.text
    return csrf_from(r.text)


def qr_code(
    db: Database,
    *,
    amount_minor: int | None = 4_250,
    name: str = "街角咖啡",
    reference: str = "order-1",
    category: str = "dining",
) -> str:
    """A merchant's signed QR payload (fixed amount unless `amount_minor` is None), issued by the bank."""
    from atrium.payments.merchants import service as merchants
    from atrium.payments.qr import service as qr

    with db.unit_of_work() as s:
        merchant = merchants.create_merchant(s, name=name, category=category, city="上海")
        issued = qr.issue_qr(
            s, merchant_id=merchant.id, currency="CNY", reference=reference, amount_minor=amount_minor
        )
    return issued.payload
