"""The customer 360 in Chromium at a desktop size: an account manager finds a customer, opens the 360,
switches sections (htmx), reveals the phone with a reason, opens an account and a transfer; a compliance
officer then finds that reveal in the audit log. axe-core checks every page on the way (in the page
itself, as the staff member sees it, CSP on); screenshots go to test-artifacts/screenshots/staff-360-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from atrium.staff import service as staff_service
from tests.web.browser_support import AXE, AXE_RUN, AXE_TAGS, shoot
from tests.web.staff.customer_book import SIGN_IN_IP, make_book
from tests.web.staff.factories import make_staff

pytestmark = pytest.mark.browser

WHY = "客户来电要求核对预留手机号，已回拨确认"


def _axe(page) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """axe-core on the page as it is now (after htmx swaps, with a form open). The script is evaluated
    through the DevTools protocol, which the page's CSP does not govern, so nothing is loosened for it."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(AXE_RUN, AXE_TAGS)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/staff/login")
    page.get_by_label("员工用户名").fill(username)
    page.get_by_label("密码", exact=True).fill("staff password 1")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/staff$"))


def test_a_manager_reveals_a_phone_and_compliance_sees_it(desk_page, db):  # type: ignore[no-untyped-def]
    page = desk_page
    book = make_book(db)
    cid = book.mei.customer_id
    manager = make_staff(db, "account_manager", username="am.zhou", display_name="周经理")
    make_staff(db, "compliance_officer", username="cmp.zhao", display_name="赵合规")

    _sign_in(page, "am.zhou")
    nav = page.get_by_role("navigation", name="控制台导航")
    expect(nav.get_by_role("link", name="访问审计")).to_have_count(0)
    nav.get_by_role("link", name="客户").click()
    page.get_by_label("用户名或姓名").fill("mei")
    page.get_by_label("访问事由").fill("客户来电咨询")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("row", name=re.compile("王\\*\\*"))).to_contain_text("me***")
    assert _axe(page) == []
    page.get_by_role("link", name=re.compile("查看 王\\*\\*")).click()
    page.wait_for_url(re.compile(rf"/staff/customers/{cid}\?reason="))

    # The 360: masked KYC with a reveal button per field, the overview section.
    expect(page.get_by_role("heading", name="客户 王**")).to_be_visible()
    kyc = page.locator(".kyc-list")
    expect(kyc.locator("#kyc-phone")).to_contain_text("139****5678")
    expect(kyc.get_by_text("查看明文", exact=False)).to_have_count(5)
    expect(page.get_by_role("table", name="存款账户")).to_contain_text(book.mei.accounts[0].masked_number)
    shoot(page, "staff-360-01-overview")
    assert _axe(page) == []

    # Sections load alone (htmx), the address bar follows, the links mark the current one.
    sections = page.get_by_role("navigation", name="客户详情")
    sections.get_by_role("link", name="设备与登录").click()
    expect(page.get_by_role("table", name="近期登录")).to_contain_text("203.0.*.*")
    page.wait_for_url(re.compile(r"tab=security"))
    expect(sections.get_by_role("link", name="设备与登录")).to_have_attribute("aria-current", "true")
    expect(page.locator("#live")).to_have_text("已加载：设备与登录。")
    shoot(page, "staff-360-02-security")
    assert _axe(page) == []
    sections.get_by_role("link", name="限额与开关").click()
    expect(page.get_by_role("table", name="客户自设限额")).to_contain_text("¥2,000.00")
    sections.get_by_role("link", name="身份").click()
    expect(page.get_by_role("table", name="本登录下的身份")).to_contain_text("上海青禾贸易有限公司")

    # Reveal the phone: open its form, state the purpose and the reason, submit; the row swaps in place.
    phone = page.locator("#kyc-phone")
    phone.locator("summary").click()
    phone.get_by_label("用途").select_option("identity_check")
    phone.get_by_label("事由").fill(WHY)
    shoot(page, "staff-360-03-reveal-form")
    assert _axe(page) == []
    phone.get_by_role("button", name="查看手机号码明文").click()
    expect(page.locator("#kyc-phone")).to_contain_text("+8613912345678")
    expect(page.locator("#kyc-phone")).to_contain_text("已显示明文")
    expect(page.locator("#live")).to_contain_text("已显示手机号码明文")
    expect(page.locator("#kyc-email")).to_contain_text("m***@example.com")  # only the one field
    shoot(page, "staff-360-04-revealed")
    assert _axe(page) == []
    assert SIGN_IN_IP not in page.content() and book.kyc.email not in page.content()

    # An account and a transfer, masked, from the overview's links.
    sections.get_by_role("link", name="账户与转账").click()
    page.get_by_role("link", name=book.mei.accounts[0].masked_number).click()
    page.wait_for_url(re.compile(r"/staff/accounts/"))
    expect(page.get_by_role("table", name="账户明细")).to_contain_text("E*** W***")
    shoot(page, "staff-360-05-account")
    assert _axe(page) == []
    page.get_by_role("link", name=re.compile("^转账详情")).first.click()
    page.wait_for_url(re.compile(r"/staff/transfers/"))
    expect(page.get_by_role("heading", name="状态记录")).to_be_visible()
    shoot(page, "staff-360-06-transfer")
    assert _axe(page) == []
    content = page.content()
    assert "王美丽" not in content and "Emma Watson" not in content and "房租" not in content

    with db.read_session() as s:
        mine = staff_service.list_access(s, staff_id=manager.id, limit=200).items
    unmasks = [r for r in mine if r.action == "customer.unmask"]
    assert [(r.detail, r.reason_category, r.reason) for r in unmasks] == [
        ("field=phone", "identity_check", WHY)
    ]
    screens = [r.screen for r in reversed(mine)]
    assert screens == [
        "customer.search",
        "customer.360",
        "customer.section",
        "customer.section",
        "customer.section",
        "customer.kyc",
        "customer.section",
        "account",
        "transfer",
    ]

    # The compliance officer finds the reveal in the audit log.
    # The 360 in English passes axe too (a fresh read of the page, recorded like any other).
    page.go_back()
    page.go_back()
    page.wait_for_url(re.compile(rf"/staff/customers/{cid}"))
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Identity details")).to_be_visible()
    expect(page.locator("#kyc-phone")).to_contain_text("139****5678")  # masked again on a new read
    shoot(page, "staff-360-08-english")
    assert _axe(page) == []
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", name="身份信息")).to_be_visible()

    page.get_by_role("button", name="退出").click()
    _sign_in(page, "cmp.zhao")
    page.get_by_role("navigation", name="控制台导航").get_by_role("link", name="访问审计").click()
    page.get_by_label("员工", exact=True).fill("am.zhou")
    page.get_by_label("操作").select_option("customer.unmask")
    page.get_by_role("button", name="筛选", exact=True).click()
    page.wait_for_url(re.compile(r"action=customer.unmask"))
    row = page.locator("tr.row-flag")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("周经理")
    expect(row).to_contain_text("field=phone")
    expect(row).to_contain_text(WHY)
    expect(row).to_contain_text("身份核实")
    assert "13912345678" not in page.content()
    shoot(page, "staff-360-07-audit")
    assert _axe(page) == []

    # The 360 and the audit log in English pass axe too.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Access audit")).to_be_visible()
    assert _axe(page) == []
