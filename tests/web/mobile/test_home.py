"""Home: totals per currency, account cards, recent transactions, quick actions, tab bar."""

from __future__ import annotations

from atrium.accounts import service as accounts
from tests.web.mobile.factories import deposit


def test_home_shows_totals_cards_and_recent(signed_in, customer, db):
    current, savings = customer.accounts
    deposit(db, savings, 30_000, "Gift")
    r = signed_in.get("/")
    assert r.status_code == 200
    html = r.text
    assert "下午好" in html or "早上好" in html or "晚上好" in html
    assert "王美" in html
    assert "¥12,800.00" in html  # 12,500 + 300 across both CNY accounts
    assert current.masked_number in html and savings.masked_number in html
    assert current.number not in html  # never the full number
    assert "账面余额" in html and "可用余额" in html
    assert "Gift" in html and "Salary" in html
    for href in ('href="/transfer"', 'href="/pay/qr"', f'href="/accounts/{current.id}"', 'href="/limits"'):
        assert href in html
    assert 'aria-current="page"' in html and 'href="/" class="tab-home" aria-current="page"' in html


def test_totals_are_kept_per_currency(signed_in, customer, db):
    with db.unit_of_work() as s:
        usd = accounts.open_account(s, customer_id=customer.customer_id, product="current", currency="USD")
    deposit(db, usd, 2_500)
    html = signed_in.get("/").text
    assert "¥12,500.00" in html
    assert "US$25.00" in html


def test_a_customer_without_accounts_sees_an_empty_state(client, db):
    from tests.web.mobile.factories import login, seed_customer

    who = seed_customer(db, username="new", balance_minor=0, savings=False)
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=who.customer_id, account_id=who.accounts[0].id)
    login(client, who)
    r = client.get("/")
    assert r.status_code == 200
    assert "您还没有账户" in r.text


def test_closed_accounts_are_not_counted(signed_in, customer, db):
    with db.unit_of_work() as s:
        accounts.close_account(s, customer_id=customer.customer_id, account_id=customer.accounts[1].id)
    html = signed_in.get("/").text
    assert customer.accounts[1].masked_number not in html
    assert "共 1 个账户" in html
