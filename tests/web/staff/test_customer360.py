"""The customer 360 page: masked profile, KYC fields, lock state and four sections, each load one audit
record with its screen and section; sections load alone through htmx; nothing unmasked anywhere."""

from __future__ import annotations

import re

import pytest

from atrium.staff import service as staff_service
from tests.web.staff.customer_book import SIGN_IN_IP, leaked, make_book

HTMX = {"HX-Request": "true"}


def _records(db, **filters):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, **filters).items


@pytest.fixture()
def book(db):  # type: ignore[no-untyped-def]
    return make_book(db)


def test_the_page_shows_the_profile_masked_kyc_lock_and_the_overview(as_operator, operator, db, book) -> None:  # type: ignore[no-untyped-def]
    cid = book.mei.customer_id
    r = as_operator.get(f"/staff/customers/{cid}", params={"reason": "complaint #4471"})
    assert r.status_code == 200
    html = r.text
    assert leaked(html, book) == []
    # KYC, each by its own mask.
    for masked in ("王*", "110***********002X", "139****5678", "m***@example.com", "上海市梧桐路…"):
        assert masked in html
    assert "登录锁定" in html and "未锁定" in html and "正常" in html  # lock state, customer status
    # The overview: accounts (linking to the account page, with the reason) and recent transfers.
    account = book.mei.accounts[0]
    assert f'href="/staff/accounts/{account.id}?reason=complaint+%234471"' in html
    assert f'href="/staff/transfers/{book.transfer_id}?reason=complaint+%234471"' in html
    assert "¥888.00" in html and "E*** W***" in html
    # An operator may not reveal: no form, no button.
    assert "/reveal/" not in html and "您的角色无权查看脱敏字段的明文" in html
    [record] = _records(db)
    assert (
        record.action,
        record.screen,
        record.detail,
        record.customer_id,
        record.staff_id,
        record.reason,
    ) == (
        "customer.view",
        "customer.360",
        "section=overview",
        cid,
        operator.id,
        "complaint #4471",
    )


@pytest.mark.parametrize(
    ("section", "shows"),
    [
        ("identities", ["企业经办人", "上海青禾贸易有限公司", "91310000MA1FL0001X", "个人"]),
        ("security", ["203.0.*.*", "Safari · iPhone", "失败", "冷静期"]),
        ("limits", ["夜间支付（00:00–06:00）", "关闭", "¥2,000.00", "按银行限额", "客户本人"]),
        ("overview", ["存款账户", "近期转账"]),
    ],
)
def test_each_section_on_the_page_and_alone_is_one_read(as_operator, db, book, section, shows) -> None:  # type: ignore[no-untyped-def]
    cid = book.mei.customer_id
    page = as_operator.get(f"/staff/customers/{cid}", params={"tab": section})
    alone = as_operator.get(f"/staff/customers/{cid}/sections/{section}", headers=HTMX)
    assert page.status_code == alone.status_code == 200
    for html in (page.text, alone.text):
        assert leaked(html, book) == []
        assert SIGN_IN_IP not in html
        for text in shows:
            assert text in html, (section, text)
    assert "<html" not in alone.text  # a fragment, with the section links refreshed out of band
    assert 'id="section-nav" aria-label="客户详情" hx-swap-oob="true"' in alone.text
    assert re.search(rf'href="/staff/customers/{cid}[^"]*"[^>]*aria-current="true"', alone.text)
    assert '<div id="live" hx-swap-oob="innerHTML">' in alone.text
    records = _records(db)
    assert [(r.screen, r.detail) for r in records] == [
        ("customer.section", f"section={section}"),
        ("customer.360", f"section={section}"),
    ]
    assert all(r.action == "customer.view" and r.customer_id == cid for r in records)


def test_section_links_carry_the_reason_and_work_without_javascript(as_operator, db, book) -> None:  # type: ignore[no-untyped-def]
    cid = book.mei.customer_id
    html = as_operator.get(f"/staff/customers/{cid}", params={"reason": "投诉处理"}).text
    reason = "%E6%8A%95%E8%AF%89%E5%A4%84%E7%90%86"
    assert f'href="/staff/customers/{cid}?tab=security&amp;reason={reason}"' in html
    assert f'hx-get="/staff/customers/{cid}/sections/security?reason={reason}"' in html
    # A plain GET of a section URL is sent to the page (which then records the read), reading nothing itself.
    r = as_operator.get(
        f"/staff/customers/{cid}/sections/limits", params={"reason": "投诉处理"}, follow_redirects=False
    )
    assert (
        r.status_code == 303 and r.headers["location"] == f"/staff/customers/{cid}?tab=limits&reason={reason}"
    )
    assert [r.detail for r in _records(db)] == ["section=overview"]
    as_operator.get(f"/staff/customers/{cid}/sections/security", params={"reason": "投诉处理"}, headers=HTMX)
    assert _records(db)[0].reason == "投诉处理"


@pytest.mark.parametrize("htmx", [False, True])
def test_an_unknown_section_or_customer_reads_and_records_nothing(as_operator, db, book, htmx: bool) -> None:  # type: ignore[no-untyped-def]
    cid = book.mei.customer_id
    headers = HTMX if htmx else {}
    if htmx:
        r = as_operator.get(f"/staff/customers/{cid}/sections/passwords", headers=headers)
        assert r.status_code == 404 and "客户页面没有该栏目" in r.text and "<html" not in r.text
        r = as_operator.get("/staff/customers/cus_nobody/sections/overview", headers=headers)
        assert r.status_code == 404 and "<html" not in r.text
        r = as_operator.get(
            f"/staff/customers/{cid}/sections/overview", params={"reason": "a\u0000b"}, headers=headers
        )
        assert r.status_code == 422
    else:
        assert as_operator.get(f"/staff/customers/{cid}", params={"tab": "passwords"}).status_code == 404
    assert _records(db) == []


def test_the_page_in_english(as_operator, book) -> None:  # type: ignore[no-untyped-def]
    as_operator.cookies.set("atrium_locale", "en")
    html = as_operator.get(f"/staff/customers/{book.mei.customer_id}", params={"tab": "security"}).text
    assert '<html lang="en">' in html and "Identity details" in html and "Devices and sign-ins" in html
    assert "Addresses are masked to their network." in html and "Mobile phone" in html
    assert leaked(html, book) == []
