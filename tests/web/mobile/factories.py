"""Seed customers, accounts and money for the mobile web tests, through the domain services only."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.kit.ids import new_id
from atrium.ledger import service as ledger
from tests.auth_support import last_code, phone_for

PASSWORD = "correct horse battery"


@dataclass
class Seeded:
    customer_id: str
    username: str
    password: str
    accounts: list[DepositAccountRead] = field(default_factory=list)
    phone: str | None = None  # E.164; sign-in and step-up codes go here (None: no second factor on file)


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
    phone: str | None | bool = True,
) -> Seeded:
    """A customer with a CNY current account holding `balance_minor` and (optionally) an empty savings one.
    `phone`: True gives them `phone_for(username)`; a string, that number; None or False, no phone."""
    number = phone_for(username) if phone is True else (phone or None)
    with db.unit_of_work() as s:
        customer = identity.create_customer(
            s, username=username, password=PASSWORD, display_name=display_name, locale=locale, phone=number
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
    return Seeded(
        customer_id=customer_id, username=username, password=PASSWORD, accounts=fresh, phone=number
    )


# A form's hidden field, or the htmx header every page sets on <body>.
_CSRF = re.compile(r'(?:name="csrf_token" value="|"X-CSRF-Token": ")([0-9a-f]{64})"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (the first value of each name)."""
    fields: dict[str, str] = {}
    for name, value in _HIDDEN.findall(html):
        fields.setdefault(htmllib.unescape(name), htmllib.unescape(value))
    return fields


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the (first) form posting to `action`."""
    match = re.search(
        r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, flags=re.DOTALL
    )
    assert match, f"no form posts to {action}"
    return hidden_fields(match.group(1))


def complete_step_up(client, page, phone: str):  # type: ignore[no-untyped-def]
    """Given the step-up page an action answered with (401), do what the customer does: ask for the SMS
    code, enter it, then continue — the original form is posted again with the completed challenge.
    Returns the answer to that repeated post."""
    assert page.status_code == 401 and 'action="/step-up/send"' in page.text, page.text
    carried = form_fields(page.text, "/step-up/send")
    sent = client.post("/step-up/send", data=carried | {"csrf_token": csrf_from(page.text)})
    assert sent.status_code == 200 and 'action="/step-up/verify"' in sent.text, sent.text
    done = client.post(
        "/step-up/verify",
        data=carried | {"method": "sms", "code": last_code(phone), "csrf_token": csrf_from(sent.text)},
    )
    assert done.status_code == 200, done.text
    return_to = carried["return_to"]
    again = form_fields(done.text, return_to)
    assert again.get("step_up") == carried["challenge"]
    return client.post(return_to, data=again | {"csrf_token": csrf_from(done.text)}, follow_redirects=False)


def login(client, seeded: Seeded, *, next_url: str = "/"):  # type: ignore[no-untyped-def]
    """Sign in through the login pages, as a browser would: GET for the CSRF token, POST the password;
    a customer with a phone then gets the second-factor page — ask for the SMS code, read it from the
    development outbox and enter it. Returns the final answer (303 with the session cookie)."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": seeded.username,
            "password": seeded.password,
            "csrf_token": csrf_from(page.text),
            "next": next_url,
        },
        follow_redirects=False,
    )
    if seeded.phone is None:
        assert r.status_code == 303, r.text
        return r
    assert r.status_code == 200 and 'action="/login/verify/send"' in r.text, r.text
    form = form_fields(r.text, "/login/verify/send")
    keep = {k: form[k] for k in ("ticket", "methods", "phone_masked", "next")}
    sent = client.post("/login/verify/send", data=keep | {"csrf_token": csrf_from(r.text)})
    assert sent.status_code == 200 and 'action="/login/verify"' in sent.text, sent.text
    r = client.post(
        "/login/verify",
        data=keep | {"method": "sms", "code": last_code(seeded.phone), "csrf_token": csrf_from(sent.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r


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
