"""The htmx parts in a real browser: switches, own limits, "load more"; and the service worker's offline
page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from atrium.limits import service as limits
from tests.web.browser_support import complete_step_up, shoot, sign_in
from tests.web.mobile.factories import deposit, seed_customer

pytestmark = pytest.mark.browser


def test_switches_toggle_in_place_keep_focus_and_announce(page, db):
    who = seed_customer(db, username="switches")
    sign_in(page, who.username, who.password)
    page.goto("/limits")
    shoot(page, "09-limits")
    night = page.get_by_role("switch", name="夜间支付（0:00–6:00）")
    expect(night).to_have_attribute("aria-checked", "true")
    night.focus()
    page.keyboard.press("Space")
    expect(night).to_have_attribute("aria-checked", "false")
    expect(page.locator("#live")).to_have_text("“夜间支付（0:00–6:00）”已关闭")
    expect(night).to_be_focused()  # the row was morphed in place, not replaced
    assert page.url.endswith("/limits")  # no page load
    with db.read_session() as s:
        assert limits.get_switches(s, who.customer_id).night_time is False
    # Switching it back on widens what the session can do: the step-up page first, then the switch.
    night.click()
    expect(page.get_by_role("heading", name="安全验证", level=2)).to_be_visible()
    expect(page.locator("main")).to_contain_text("提高限额或开启支付功能")
    shoot(page, "09b-limits-step-up")
    complete_step_up(page, who.phone)
    page.wait_for_url("**/limits")
    expect(page.get_by_role("switch", name="夜间支付（0:00–6:00）")).to_have_attribute("aria-checked", "true")
    with db.read_session() as s:
        assert limits.get_switches(s, who.customer_id).night_time is True


def test_own_limit_errors_and_saving(page, db):
    who = seed_customer(db, username="ownlimits")
    sign_in(page, who.username, who.password)
    page.goto("/limits")
    card = page.locator("#limit-internal_transfer-CNY")
    card.get_by_text("设置我的限额").click()
    card.get_by_role("textbox", name="单笔限额").fill("99999999")
    card.get_by_role("button", name="保存").click()
    expect(card.get_by_role("alert")).to_contain_text("不能高于银行限额")
    card.scroll_into_view_if_needed()
    shoot(page, "10-limits-error")
    card.get_by_role("textbox", name="单笔限额").fill("800")
    card.get_by_role("textbox", name="每日限额").fill("2000")
    card.get_by_role("button", name="保存").click()
    expect(card).to_contain_text("单笔 ¥800.00")
    expect(page.locator("#live")).to_have_text("限额已保存")
    expect(card.get_by_role("alert")).to_have_count(0)


def test_the_statement_loads_older_entries_as_you_scroll(page, db):
    who = seed_customer(db, username="scroller")
    for i in range(30):
        deposit(db, who.accounts[0], 100 + i, f"Refund {i:02d}")
    sign_in(page, who.username, who.password)
    page.goto(f"/accounts/{who.accounts[0].id}")
    entries = page.locator("li.entry")
    expect(entries).to_have_count(20)
    page.get_by_role("link", name="加载更多").scroll_into_view_if_needed()
    expect(entries).to_have_count(31)
    expect(page.locator("#live")).to_have_text("已加载 11 条交易")
    expect(page.get_by_text("没有更多交易了")).to_be_visible()
    expect(page.locator(".day-head")).to_have_count(1)  # one day, one heading across both pages
    shoot(page, "11-statement-more")


def test_the_service_worker_shows_the_offline_page(page, db):
    who = seed_customer(db, username="offline")
    sign_in(page, who.username, who.password)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # the page is now controlled by the worker
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    try:
        page.goto("/limits")
        expect(page.get_by_role("heading", name="网络已断开")).to_be_visible()
        expect(page.get_by_text("王美")).to_have_count(0)  # no personal data from any cache
        shoot(page, "12-offline")
    finally:
        page.context.set_offline(False)
