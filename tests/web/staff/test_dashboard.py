"""The dashboard: counts, the outbox backlog, the trial balance always; the full ledger check only when
asked (htmx swaps the result in; without JavaScript the form post renders the whole page)."""

from __future__ import annotations

import re

from sqlalchemy import text

from atrium.events.relay import relay_once
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import page_token


def _tile(html: str, label: str) -> str:
    match = re.search(rf'<p class="tile-label">{label}</p>\s*<p class="tile-value">([^<]+)</p>', html)
    assert match, label
    return match.group(1)


def test_counts_backlog_and_trial_balance(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    seed_customer(db, username="a", display_name="甲")
    seed_customer(db, username="b", display_name="乙", balance_minor=500_000, savings=False)
    r = as_operator.get("/staff")
    assert r.status_code == 200
    html = r.text
    assert _tile(html, "客户总数") == "2"
    # Three deposit accounts, plus the bank's settlement account that paid the deposits in.
    assert _tile(html, "总账账户") == "4"
    backlog = int(_tile(html, "待发布事件"))
    assert backlog > 0 and "最早一条" in html  # nothing relays events in this test: they wait in the outbox
    assert "¥17,500.00" in html  # debits = credits = 12,500 + 5,000
    assert "平衡" in html and "不平衡" not in html
    assert '<th scope="row">CNY</th>' in html and "<caption" in html
    assert 'id="ledger-check"' in html and "核查通过" not in html  # the check runs only when asked
    relay_once(db)
    assert _tile(as_operator.get("/staff").text, "待发布事件") == "0"


def test_an_empty_bank(as_operator) -> None:  # type: ignore[no-untyped-def]
    html = as_operator.get("/staff").text
    assert _tile(html, "客户总数") == "0" and "总账中还没有账户" in html and "全部事件均已发布" in html


def test_the_ledger_check_through_htmx(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    seed_customer(db)
    token = page_token(as_operator)
    r = as_operator.post("/staff/ledger/check", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200
    assert "<html" not in r.text and "sidenav" not in r.text  # a fragment for #ledger-check
    assert "核查通过" in r.text and 'hx-swap-oob="innerHTML">总账核查通过。' in r.text


def test_the_ledger_check_without_javascript_and_a_broken_ledger(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db)
    # Corrupt one cached total behind the ledger's back: the check must find it.
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = credits_posted + 7 WHERE id = :id"),
            {"id": who.accounts[0].ledger_account_id},
        )
    token = page_token(as_operator)
    r = as_operator.post("/staff/ledger/check", data={"csrf_token": token})
    assert r.status_code == 200
    html = r.text
    assert "<html" in html and "总账健康状况" in html  # the whole page, with the result in place
    assert re.search(r"发现 [1-9]\d* 处不一致", html) and "<code>posted-totals</code>" in html
    assert who.accounts[0].ledger_account_id in html


def test_the_check_button_is_offered_only_to_roles_that_may_run_it(client, db) -> None:  # type: ignore[no-untyped-def]
    from tests.web.staff.factories import make_staff, sign_in

    sign_in(client, make_staff(db, "account_manager"))
    html = client.get("/staff").text
    assert "运行总账核查" not in html and "总账健康状况" in html


def test_accounts_and_todays_transfers_by_status(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    from tests.web.staff.factories import pay

    a = seed_customer(db, username="a", display_name="甲")
    b = seed_customer(db, username="b", display_name="乙", savings=False)
    pay(db, customer_id=a.customer_id, from_account_id=a.accounts[0].id,
        to_account_number=b.accounts[0].number, amount_minor=1_000)
    html = as_operator.get("/staff").text
    assert _tile(html, "在用账户") == "3"
    assert _tile(html, "今日转账") == "1" and "已完成 1" in html
    assert _tile(html, "跨行清算中") == "0"
