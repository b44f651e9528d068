"""Customers: search and the customer page — masked names only, and an audit record for every read."""

from __future__ import annotations

import re

import pytest

from atrium.staff import service as staff_service
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import make_staff, pay, sign_in

FULL_NAMES = ("王美丽", "Emma Watson")


def _records(db, **filters):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, **filters).items


def _assert_masked(html: str) -> None:
    for name in FULL_NAMES:
        assert name not in html
    assert "mei.wang" not in html and "emma.w" not in html


@pytest.fixture()
def people(db):  # type: ignore[no-untyped-def]
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    emma = seed_customer(db, username="emma.w", display_name="Emma Watson", savings=False)
    pay(
        db,
        customer_id=mei.customer_id,
        from_account_id=mei.accounts[0].id,
        to_account_number=emma.accounts[0].number,
        amount_minor=88_800,
        memo="给 Emma Watson 的房租",
    )
    return mei, emma


def test_the_search_form_alone_reads_and_records_nothing(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.get("/staff/customers")
    assert r.status_code == 200
    assert '<label for="q">' in r.text and '<label for="reason">' in r.text and 'role="search"' in r.text
    assert _records(db) == []


def test_search_shows_masked_customers_and_is_audited(as_operator, operator, db, people) -> None:  # type: ignore[no-untyped-def]
    mei, emma = people
    r = as_operator.get("/staff/customers", params={"q": "M"})  # username "mei.wang", name "Emma Watson"
    assert r.status_code == 200
    html = r.text
    _assert_masked(html)
    assert "王**" in html and "E*** W***" in html and "me***" in html and "em***" in html
    assert f'href="/staff/customers/{mei.customer_id}"' in html
    assert '<th scope="col">' in html and "<caption" in html
    [record] = _records(db)
    assert (record.action, record.staff_id, record.customer_id, record.detail) == (
        "customer.search",
        operator.id,
        None,
        "shown=2",
    )
    assert record.reason == "customer service view" and record.screen == "customer.search"


def test_search_by_name_and_the_reason_travels_to_the_customer_links(as_operator, db, people) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    r = as_operator.get("/staff/customers", params={"q": "美丽", "reason": "处理客户投诉"})
    _assert_masked(r.text)
    assert re.search(rf'href="/staff/customers/{mei.customer_id}\?reason=%E5%A4%84', r.text)
    assert "找到 1 位客户" in r.text
    assert _records(db)[0].reason == "处理客户投诉"


def test_a_search_without_matches(as_operator, db, people) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.get("/staff/customers", params={"q": "nobody"})
    assert r.status_code == 200 and "没有匹配的客户" in r.text
    assert _records(db)[0].detail == "shown=0"


def test_search_pages_through_many_customers(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(27):
        seed_customer(db, username=f"zhang{i:02d}", display_name=f"张{i:02d}", balance_minor=0, savings=False)
    first = as_operator.get("/staff/customers", params={"q": "zhang"})
    assert first.text.count('href="/staff/customers/cus_') == 25
    next_url = re.search(r'<a class="btn btn-secondary" href="([^"]+)">下一页', first.text)
    assert next_url
    second = as_operator.get(next_url.group(1).replace("&amp;", "&"))
    assert second.text.count('href="/staff/customers/cus_') == 2 and "下一页" not in second.text
    assert [r.detail for r in _records(db)] == ["shown=2 page>1", "shown=25"]


def test_the_customer_page_is_masked_and_audited(as_operator, operator, db, people) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    r = as_operator.get(f"/staff/customers/{mei.customer_id}", params={"reason": "fraud investigation"})
    assert r.status_code == 200
    html = r.text
    _assert_masked(html)
    assert "房租" not in html  # memos are the customer's words: not shown
    assert "<title>客户 王** · " in html
    for account in mei.accounts:
        assert account.masked_number in html and account.number not in html
    assert "¥11,612.00" in html  # 12,500.00 − 888.00 on the current account
    assert "¥888.00" in html and "E*** W***" in html and "已完成" in html
    assert "本次查看已记入审计日志，事由：fraud investigation" in html
    [record] = _records(db)
    assert (record.action, record.staff_id, record.staff_role, record.customer_id, record.reason) == (
        "customer.view",
        operator.id,
        "operator",
        mei.customer_id,
        "fraud investigation",
    )
    as_operator.get(f"/staff/customers/{mei.customer_id}")
    assert [r.reason for r in _records(db, customer_id=mei.customer_id)] == [
        "customer service view",
        "fraud investigation",
    ]


def test_an_account_manager_may_view_and_is_audited_too(client, db, people) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    manager = make_staff(db, "account_manager")
    sign_in(client, manager)
    assert client.get(f"/staff/customers/{mei.customer_id}").status_code == 200
    assert _records(db, staff_id=manager.id)[0].staff_role == "account_manager"


def test_a_compliance_officer_cannot_view_and_nothing_is_recorded(client, db, people) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    sign_in(client, make_staff(db, "compliance_officer"))
    r = client.get(f"/staff/customers/{mei.customer_id}")
    assert r.status_code == 403
    _assert_masked(r.text)
    assert _records(db) == []


def test_an_unknown_customer_is_a_404_page_and_not_recorded(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.get("/staff/customers/cus_01NOSUCHCUSTOMER00000000000")
    assert r.status_code == 404 and "客户不存在" in r.text
    assert _records(db) == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"reason": "x" * 201}, 422),
        ({"reason": "a\u0000b"}, 422),
        ({"reason": "x" * 1001}, 400),
    ],
)
def test_a_bad_reason_is_refused_before_anything_is_read(as_operator, db, people, params, status) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    r = as_operator.get(f"/staff/customers/{mei.customer_id}", params=params)
    assert r.status_code == status
    _assert_masked(r.text)
    assert "¥" not in r.text
    assert _records(db) == []


def test_a_malformed_cursor_is_a_clear_error_page(as_operator) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.get("/staff/customers", params={"q": "a", "cursor": "%%%"})
    assert r.status_code == 422 and "输入无效" in r.text


def test_the_customer_page_in_english(as_operator, people) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    as_operator.cookies.set("atrium_locale", "en")
    r = as_operator.get(f"/staff/customers/{mei.customer_id}")
    assert '<html lang="en">' in r.text
    assert "Deposit accounts" in r.text and "CN¥888.00" in r.text and "Customer 王**" in r.text
    _assert_masked(r.text)


def test_a_reason_is_shown_as_text_escaped_once(as_operator, db, people) -> None:  # type: ignore[no-untyped-def]
    mei, _ = people
    r = as_operator.get(f"/staff/customers/{mei.customer_id}", params={"reason": "A & B <i>x</i>"})
    assert "A &amp; B &lt;i&gt;x&lt;/i&gt;" in r.text and "&amp;amp;" not in r.text and "<i>x" not in r.text
    assert _records(db)[0].reason == "A & B <i>x</i>"
    assert "客户服务查询" in as_operator.get(f"/staff/customers/{mei.customer_id}").text
