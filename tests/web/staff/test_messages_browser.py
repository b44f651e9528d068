"""The console's messages area in a real browser: an operator edits a template (a new version), publishes
a notice, and reads the delivery log; every page passes axe-core. Screenshots: staff-messages-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from atrium.messages import service as messages
from tests.web.browser_support import shoot
from tests.web.staff.factories import make_staff
from tests.web.staff.test_browser import _axe

pytestmark = pytest.mark.browser


def test_operator_edits_a_template_and_publishes_a_notice(desk_page, db) -> None:  # type: ignore[no-untyped-def]
    page = desk_page
    make_staff(db, "operator", username="op.msg", display_name="消息运营")
    with db.unit_of_work() as s:
        messages.ensure_builtin_templates(s)
    page.goto("/staff/login")
    page.get_by_label("员工用户名").fill("op.msg")
    page.get_by_label("密码", exact=True).fill("staff password 1")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/staff$"))

    page.get_by_role("navigation", name="控制台导航").get_by_role("link", name="消息").click()
    page.wait_for_url("**/staff/messages")
    expect(page.get_by_role("table", name="消息模板")).to_contain_text("security.changed")
    shoot(page, "staff-messages-01-templates")
    assert _axe(page) == []

    page.get_by_role("link", name="transfer.received").click()
    page.wait_for_url("**/staff/messages/templates/transfer.received")
    expect(page.locator("#placeholders-hint")).to_contain_text("{amount}")
    page.get_by_label("正文（中文）").fill("您尾号{account}的账户到账{amount}。")
    page.get_by_label("修改原因（可选）").fill("措辞更简洁")
    page.get_by_role("button", name="保存为新版本").click()
    page.wait_for_url(re.compile(r"saved=2$"))
    expect(page.get_by_role("status").first).to_contain_text("现使用第 2 版")
    expect(page.get_by_role("table", name="版本记录")).to_contain_text("措辞更简洁")
    shoot(page, "staff-messages-02-template")
    assert _axe(page) == []

    page.get_by_role("navigation", name="消息功能分区").get_by_role("link", name="服务公告").click()
    page.wait_for_url("**/staff/messages/notices")
    page.get_by_label("标题（中文）").fill("系统维护通知")
    page.get_by_label("正文（中文）").fill("本周六 01:00–03:00 系统维护，期间转账暂停。")
    page.get_by_label("标题（英文）").fill("Maintenance")
    page.get_by_label("正文（英文）").fill("Transfers pause on Saturday 01:00–03:00.")
    page.get_by_role("button", name="发布").click()
    page.wait_for_url("**/staff/messages/notices?done=published")
    expect(page.get_by_role("table", name="公告列表")).to_contain_text("系统维护通知")
    expect(page.get_by_role("table", name="公告列表")).to_contain_text("展示中")
    shoot(page, "staff-messages-03-notices")
    assert _axe(page) == []

    page.get_by_role("navigation", name="消息功能分区").get_by_role("link", name="发送记录").click()
    page.wait_for_url("**/staff/messages/delivery")
    expect(page.get_by_role("table", name="群发记录")).to_contain_text("服务公告")
    shoot(page, "staff-messages-04-delivery")
    assert _axe(page) == []
