"""The console in a real browser at a desktop size: an operator signs in, finds a customer, opens them,
and the page passes axe-core (WCAG 2.x A/AA) and keyboard checks. Screenshots go to
test-artifacts/screenshots/staff-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.browser_support import AXE, AXE_RUN, AXE_TAGS, shoot
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import make_staff, pay

pytestmark = pytest.mark.browser



def _axe(page) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """axe-core run inside the page. The CSP forbids injected scripts, so axe goes in through a second,
    CSP-bypassing context that loads the same URL with the same cookies."""
    context = page.context.browser.new_context(
        viewport=page.viewport_size, bypass_csp=True, storage_state=page.context.storage_state()
    )
    try:
        audit = context.new_page()
        audit.goto(page.url)
        audit.add_script_tag(path=str(AXE))
        result = audit.evaluate(AXE_RUN, AXE_TAGS)
    finally:
        context.close()
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"][:5]]} for v in result["violations"]]


def test_operator_signs_in_finds_and_opens_a_customer(desk_page, db):  # type: ignore[no-untyped-def]
    page = desk_page
    make_staff(db, "operator", username="op.li", display_name="李运营")
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    other = seed_customer(db, username="emma.w", display_name="Emma Watson", savings=False)
    current = mei.accounts[0]
    pay(
        db,
        customer_id=mei.customer_id,
        from_account_id=current.id,
        to_account_number=other.accounts[0].number,
        amount_minor=88_800,
        memo="房租",
    )
    pay(
        db,
        customer_id=mei.customer_id,
        from_account_id=current.id,
        to_account_number=other.accounts[0].number,
        amount_minor=1_250,
    )

    page.goto("/staff")
    page.wait_for_url("**/staff/login")
    expect(page.get_by_role("heading", name="员工登录")).to_be_visible()
    shoot(page, "staff-01-login")
    assert _axe(page) == []
    page.get_by_label("员工用户名").fill("op.li")
    page.get_by_label("密码", exact=True).fill("staff password 1")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/staff$"))
    expect(page.get_by_role("heading", name="总账健康状况")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="控制台导航").get_by_role("link", name="访问审计")
    ).to_have_count(0)

    # The ledger check runs through htmx and reports in place.
    page.get_by_role("button", name="运行总账核查").click()
    expect(page.locator("#ledger-check")).to_contain_text("核查通过")
    expect(page.locator("#live")).to_have_text("总账核查通过。")
    shoot(page, "staff-02-dashboard")
    assert _axe(page) == []

    page.get_by_role("navigation", name="控制台导航").get_by_role("link", name="客户").click()
    page.wait_for_url("**/staff/customers")
    page.get_by_label("用户名或姓名").fill("mei")
    page.get_by_label("访问事由").fill("处理客户投诉")
    page.get_by_role("button", name="查找").click()
    row = page.get_by_role("row", name=re.compile("王\\*\\*"))
    expect(row).to_contain_text("me***")
    assert _axe(page) == []
    page.get_by_role("link", name=re.compile("查看 王\\*\\*")).click()

    page.wait_for_url(re.compile(rf"/staff/customers/{mei.customer_id}\?reason="))
    expect(page.get_by_role("heading", name="客户 王**")).to_be_visible()
    expect(page.locator("main")).to_contain_text("处理客户投诉")
    expect(page.get_by_role("table", name="存款账户")).to_contain_text(current.masked_number)
    expect(page.get_by_role("table", name="近期转账")).to_contain_text("¥888.00")
    content = page.content()
    assert "王美丽" not in content and "Emma Watson" not in content and "mei.wang" not in content
    shoot(page, "staff-03-customer")

    # Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    assert _axe(page) == []
