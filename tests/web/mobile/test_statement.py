"""The statement page: balances, filters, the htmx "load more" with the cursor, export links."""

from __future__ import annotations

import re

from tests.web.mobile.factories import deposit, login, seed_customer


def _rows(html: str) -> list[str]:
    return re.findall(r'<span class="title">([^<]+)</span>', html)


def test_statement_shows_balances_entries_and_exports(signed_in, customer):
    acc = customer.accounts[0]
    r = signed_in.get(f"/accounts/{acc.id}")
    assert r.status_code == 200
    assert "¥12,500.00" in r.text
    assert "Salary" in r.text and "+¥12,500.00" in r.text
    assert f'href="/api/v1/accounts/{acc.id}/statement.csv?lang=zh"' in r.text
    assert f'href="/api/v1/accounts/{acc.id}/statement.pdf"' in r.text


def test_the_export_links_work_with_the_session_cookie(signed_in, customer):
    acc = customer.accounts[0]
    html = signed_in.get(f"/accounts/{acc.id}").text
    csv_href = re.search(r'href="(/api/v1/accounts/[^"]+statement\.csv[^"]*)"', html).group(1)
    r = signed_in.get(csv_href.replace("&amp;", "&"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")


def test_direction_filter(signed_in, customer, db):
    acc = customer.accounts[0]
    html = signed_in.get(f"/accounts/{acc.id}?direction=out").text
    assert "没有符合条件的交易" in html
    assert 'value="out" checked' in html
    html = signed_in.get(f"/accounts/{acc.id}?direction=in").text
    assert "Salary" in html


def test_bad_date_range_is_an_inline_error(signed_in, customer):
    acc = customer.accounts[0]
    r = signed_in.get(f"/accounts/{acc.id}?from=2026-02-10&to=2026-02-01")
    assert r.status_code == 200
    assert "开始日期不能晚于结束日期" in r.text
    assert 'aria-invalid="true"' in r.text
    r = signed_in.get(f"/accounts/{acc.id}?from=not-a-date")
    assert "日期格式不正确" in r.text


def test_date_filter_excludes_other_days(signed_in, customer):
    acc = customer.accounts[0]
    html = signed_in.get(f"/accounts/{acc.id}?from=2001-01-01&to=2001-01-31").text
    assert "没有符合条件的交易" in html
    assert "Salary" not in html


def test_load_more_follows_the_cursor_without_repeating(signed_in, customer, db):
    acc = customer.accounts[0]
    for i in range(25):
        deposit(db, acc, 100 + i, f"Refund {i:02d}")
    first = signed_in.get(f"/accounts/{acc.id}").text
    first_rows = _rows(first)
    assert len(first_rows) == 20
    more = re.search(r'hx-get="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "cursor=" in more
    r = signed_in.get(more, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text  # a fragment for htmx to swap in
    rest = _rows(r.text)
    assert len(rest) == 6  # 25 refunds + the salary = 26 entries
    assert not set(first_rows) & set(rest)
    assert "Salary" in rest
    assert 'hx-swap-oob="innerHTML"' in r.text and "已加载 6 条交易" in r.text
    assert "没有更多交易了" in r.text
    assert "hx-get" not in r.text


def test_load_more_without_javascript_renders_the_older_page(signed_in, customer, db):
    acc = customer.accounts[0]
    for i in range(21):
        deposit(db, acc, 100 + i, f"Refund {i:02d}")
    first = signed_in.get(f"/accounts/{acc.id}").text
    href = (
        re.search(r'<a class="btn btn-secondary btn-block" href="([^"]+)"', first)
        .group(1)
        .replace("&amp;", "&")
    )
    older = signed_in.get(href)
    assert older.status_code == 200
    assert "更早的交易" in older.text and "Salary" in older.text


def test_a_tampered_cursor_starts_again_from_the_newest(signed_in, customer):
    acc = customer.accounts[0]
    r = signed_in.get(f"/accounts/{acc.id}/entries?cursor=bogus", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "Salary" in r.text


def test_someone_elses_account_is_a_404_page(client, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    login(client, other)
    r = client.get(f"/accounts/{customer.accounts[0].id}")
    assert r.status_code == 404
    assert "找不到该账户" in r.text
    assert r.headers["content-type"].startswith("text/html")
