"""The account and transfer pages: masked, paged, one audit record per read, `customers.view` only."""

from __future__ import annotations

import re

import pytest

from atrium.staff import service as staff_service
from tests.web.mobile.factories import deposit
from tests.web.staff.customer_book import leaked, make_book
from tests.web.staff.factories import make_staff, sign_in


def _records(db, **filters):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, **filters).items


@pytest.fixture()
def book(db):  # type: ignore[no-untyped-def]
    return make_book(db)


def test_the_account_page_is_masked_and_audited(as_operator, operator, db, book) -> None:  # type: ignore[no-untyped-def]
    account = book.mei.accounts[0]
    r = as_operator.get(f"/staff/accounts/{account.id}", params={"reason": "complaint #7"})
    assert r.status_code == 200
    html = r.text
    assert leaked(html, book) == []
    assert f"<title>账户 {account.masked_number} · " in html
    assert "王**" in html and "E*** W***" in html and "−¥888.00" in html.replace("-", "−")
    assert "+¥12,500.00" in html and "¥11,612.00" in html  # the deposit, the balance after the transfer
    assert f'href="/staff/transfers/{book.transfer_id}?reason=complaint+%237"' in html
    assert f'href="/staff/customers/{book.mei.customer_id}?reason=complaint+%237"' in html
    assert "<caption" in html and '<th scope="col">' in html
    [record] = _records(db)
    assert (
        record.action,
        record.screen,
        record.customer_id,
        record.staff_id,
        record.detail,
        record.reason,
    ) == (
        "account.view",
        "account",
        book.mei.customer_id,
        operator.id,
        f"account={account.id}",
        "complaint #7",
    )


def test_entries_page_25_at_a_time(as_operator, db, book) -> None:  # type: ignore[no-untyped-def]
    account = book.mei.accounts[0]
    for i in range(26):
        deposit(db, account, 100 + i, description=f"工资 {i}")
    first = as_operator.get(f"/staff/accounts/{account.id}").text
    assert len(re.findall(r'<tr>\s*<th scope="row" class="nowrap">', first)) == 25
    assert "工资" not in first  # descriptions are the customers' (or payers') words
    next_url = re.search(r'href="(/staff/accounts/[^"]*cursor=[^"]+)"', first)
    assert next_url
    second = as_operator.get(next_url.group(1).replace("&amp;", "&")).text
    assert len(re.findall(r'<tr>\s*<th scope="row" class="nowrap">', second)) == 3  # 26 + 2 = 28 entries
    assert "第一页" in second and "下一页" not in second
    assert [r.detail.endswith("page>1") for r in _records(db)] == [True, False]


def test_the_transfer_page_shows_its_history_masked_and_is_audited(as_operator, db, book) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.get(f"/staff/transfers/{book.transfer_id}")
    assert r.status_code == 200
    html = r.text
    assert leaked(html, book) == []
    assert "状态记录" in html and "已完成" in html and "E*** W***" in html and "¥888.00" in html
    assert '<ol class="timeline">' in html and "账务记录" in html
    assert f'href="/staff/accounts/{book.mei.accounts[0].id}"' in html
    [record] = _records(db)
    assert (record.action, record.screen, record.customer_id, record.detail) == (
        "transfer.view",
        "transfer",
        book.mei.customer_id,
        f"transfer={book.transfer_id}",
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [("/staff/accounts/acc_nobody", "账户不存在"), ("/staff/transfers/trf_nobody", "转账不存在")],
)
def test_unknown_ids_are_404_pages_and_record_nothing(as_operator, db, path: str, message: str) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.get(path)
    assert r.status_code == 404 and message in r.text
    assert _records(db) == []


def test_a_bad_cursor_or_reason_is_a_clear_error_and_records_nothing(as_operator, db, book) -> None:  # type: ignore[no-untyped-def]
    account = book.mei.accounts[0]
    assert as_operator.get(f"/staff/accounts/{account.id}", params={"cursor": "%%%"}).status_code == 422
    assert as_operator.get(f"/staff/accounts/{account.id}", params={"reason": "x" * 201}).status_code == 422
    assert (
        as_operator.get(f"/staff/transfers/{book.transfer_id}", params={"reason": "a\u0007"}).status_code
        == 422
    )
    assert _records(db) == []


def test_compliance_officers_cannot_open_accounts_or_transfers(client, db, book) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "compliance_officer"))
    for path in (f"/staff/accounts/{book.mei.accounts[0].id}", f"/staff/transfers/{book.transfer_id}"):
        r = client.get(path)
        assert r.status_code == 403 and "无权访问" in r.text and leaked(r.text, book) == []
    assert _records(db) == []


def test_the_pages_in_english(as_operator, book) -> None:  # type: ignore[no-untyped-def]
    as_operator.cookies.set("atrium_locale", "en")
    html = as_operator.get(f"/staff/accounts/{book.mei.accounts[0].id}").text
    assert "Account details" in html and "Counterparty" in html and "CN¥11,612.00" in html
    html = as_operator.get(f"/staff/transfers/{book.transfer_id}").text
    assert "Status history" in html and "Completed" in html
