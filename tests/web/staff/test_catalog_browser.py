"""The catalogue's maker-checker in a real browser: an operator proposes a new service through the console's
form, a second operator approves it, and the service then appears in GET /api/v1/catalog/services for a
customer in its audience and not for one outside it. axe-core checks each console page on the way.
Screenshots: test-artifacts/screenshots/staff-catalog-*.png."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from atrium.catalog import service as catalog
from tests.catalog.factories import PASSWORD, make_customer
from tests.web.browser_support import shoot
from tests.web.staff.factories import make_staff
from tests.web.staff.test_browser import _axe

pytestmark = pytest.mark.browser
RULE = {"all": [{"attr": "age", "op": "gte", "value": 60}, {"attr": "locale", "op": "eq", "value": "zh"}]}


def staff_sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/staff/login")
    page.get_by_label("员工用户名").fill(username)
    page.get_by_label("密码", exact=True).fill("staff password 1")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/staff$"))


def services_for(page, base_url: str, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    """What the customer's own app would list: sign in over the API, then GET /api/v1/catalog/services."""
    api = page.context.browser.new_context(base_url=base_url).request
    try:
        login = api.post("/api/v1/auth/login", data={"username": username, "password": PASSWORD})
        assert login.ok, login.text()
        token = login.json()["token"]
        r = api.get("/api/v1/catalog/services", headers={"Authorization": f"Bearer {token}"})
        assert r.ok, r.text()
        return [s["key"] for s in r.json()]
    finally:
        api.dispose()


def test_an_operator_publishes_a_second_approves_and_only_its_audience_sees_it(desk_page, db, live_server):  # type: ignore[no-untyped-def]
    page = desk_page
    with db.unit_of_work() as s:
        catalog.sync_definitions(s)
        make_customer(s, age=68, username="elder.zhang")
        make_customer(s, age=34, username="young.li")
    make_staff(db, "operator", username="op.li", display_name="李运营")
    make_staff(db, "operator", username="op.wang", display_name="王复核")
    assert "wealth.pension" not in services_for(page, live_server, "elder.zhang")

    # The maker proposes the service through the form.
    staff_sign_in(page, "op.li")
    page.get_by_role("navigation", name="控制台导航").get_by_role("link", name="服务目录").click()
    expect(page.get_by_role("heading", name="服务目录", level=1)).to_be_visible()
    shoot(page, "staff-catalog-01-list")
    assert _axe(page) == []
    page.get_by_role("link", name="提议新服务").click()
    page.get_by_label("服务键").fill("wealth.pension")
    page.get_by_label("业务线").select_option("wealth")
    page.get_by_label("中文名称").fill("养老理财")
    page.get_by_label("英文名称").fill("Pension savings")
    page.get_by_label("中文说明").fill("为退休生活稳健储蓄")
    page.get_by_label("英文说明").fill("Save steadily for retirement")
    page.get_by_label("中文搜索词").fill("养老, 退休")
    page.get_by_label("图标").select_option("wallet")
    page.get_by_label("打开的页面").fill("/limits")
    page.get_by_role("checkbox", name="首页快捷").check()
    page.get_by_label("受众规则（JSON）").fill('{"attr": "age", "op": "older", "value": 60}')
    page.get_by_role("button", name="提交审批").click()
    expect(page.locator("#f-audience-error")).to_contain_text("audience.op")  # refused against its field
    expect(page.get_by_label("受众规则（JSON）")).to_have_attribute("aria-invalid", "true")
    # The error summary links to the field.
    page.locator("#form-error").get_by_role("link", name="受众规则（JSON）").click()
    expect(page.get_by_label("受众规则（JSON）")).to_be_in_viewport()
    shoot(page, "staff-catalog-02-form-error")
    assert _axe(page) == []
    page.get_by_label("受众规则（JSON）").fill(json.dumps(RULE))
    page.get_by_label("给审批人的说明").fill("重阳节养老专区")
    page.get_by_role("button", name="提交审批").click()
    expect(page.get_by_text("新服务提议已提交")).to_be_visible()
    expect(page.locator("#approve")).to_have_count(0)  # never for the maker
    expect(page.get_by_text("这是你的提议")).to_be_visible()
    shoot(page, "staff-catalog-03-proposed")
    assert _axe(page) == []
    # Not before a second operator approves.
    assert "wealth.pension" not in services_for(page, live_server, "elder.zhang")

    # The checker approves it.
    page.get_by_role("button", name="退出").click()
    staff_sign_in(page, "op.wang")
    page.goto("/staff/catalog/proposals")
    expect(page.locator("#queue")).to_contain_text("wealth.pension")
    shoot(page, "staff-catalog-04-queue")
    assert _axe(page) == []
    page.locator("#queue").get_by_role("link", name=re.compile("新服务")).click()
    expect(page.locator("#changes")).to_contain_text("年龄 大于或等于 60")
    page.get_by_role("button", name="批准").click()
    expect(page.get_by_text("已批准，服务现在是第 1 版。")).to_be_visible()
    history = page.locator("#history")
    expect(history).to_contain_text("李运营")
    expect(history).to_contain_text("王复核")
    shoot(page, "staff-catalog-05-approved")
    assert _axe(page) == []
    history.scroll_into_view_if_needed()
    shoot(page, "staff-catalog-05-history")

    # Live for its audience only.
    assert "wealth.pension" in services_for(page, live_server, "elder.zhang")
    assert "wealth.pension" not in services_for(page, live_server, "young.li")

    # Who would see it: the preview counts the sample (two customers, one matches).
    page.get_by_label("查询原因").fill("上线核对")
    page.get_by_role("button", name="统计并核对").click()
    expect(page.locator("#preview-count")).to_contain_text("样本 2 位客户中有 1 位会看到此服务")
    expect(page.locator("#preview-count")).to_be_in_viewport()  # the page returns to the preview
    shoot(page, "staff-catalog-06-preview")
