"""The anti-fraud console in Chromium at a desktop size: an analyst works the case queue (filters refresh in
place, a case shows its evidence and the model's explanation as a chart), releases a held payment with a
note; a second analyst acting on a case already resolved gets the conflict, not a second action; rules go
through propose → backtest → approve by another analyst; lists and the model registry. axe-core finds no
serious or critical violation on any page, in Chinese and English. Screenshots:
test-artifacts/screenshots/staff-risk-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.web.browser_support import AXE, AXE_RUN, AXE_TAGS, SCREENSHOTS, shoot
from tests.web.mobile.factories import seed_customer
from tests.web.staff import risk_support as rs
from tests.web.staff.conftest import DESKTOP
from tests.web.staff.factories import pay
from tests.web.staff.test_catalog_browser import staff_sign_in

pytestmark = pytest.mark.browser
BLOCKING = ("serious", "critical")


def blocking(page) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """axe-core's serious and critical violations on the page as it stands (after any form post or htmx
    swap). DevTools evaluation is not subject to the page's CSP, so axe runs in the page itself."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(AXE_RUN, AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in BLOCKING]


@pytest.fixture()
def second_page(browser, live_server) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    """Another analyst's browser (its own cookies)."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server,
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_an_analyst_works_the_queue_and_a_second_analyst_meets_the_conflict(desk_page, second_page, db):  # type: ignore[no-untyped-def]
    page = desk_page
    who = seed_customer(db, username="mei", display_name="王美丽")
    other = seed_customer(db, username="lan", display_name="林兰")
    pay(db, customer_id=who.customer_id, from_account_id=who.accounts[0].id,
        to_account_number=other.accounts[0].number, amount_minor=2_350_00)
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team)
    rs.publish_rule(db, team)
    first = rs.held_case(db, who.customer_id, 880_000)
    second = rs.held_case(db, who.customer_id, 1_250_000, device="device-new-01")

    staff_sign_in(page, team.maker.username)
    page.get_by_role("navigation", name="控制台导航").get_by_role("link", name="风险案件").click()
    expect(page.get_by_role("heading", name="风险案件队列", level=1)).to_be_visible()
    queue = page.locator("#queue")
    expect(queue.get_by_role("row")).to_have_count(3)  # the header and two held transfers, oldest first
    expect(queue.get_by_role("row").nth(1)).to_contain_text("¥8,800.00")
    expect(queue).to_contain_text("王**")
    expect(queue).not_to_contain_text("王美丽")
    shoot(page, "staff-risk-01-queue")
    assert blocking(page) == []

    # A filter refreshes the table in place (htmx) and says so to screen readers.
    page.get_by_label("决策").select_option("deny")
    expect(page.locator("#queue-body")).to_contain_text("没有符合筛选条件的案件")
    expect(page.locator("#live")).to_have_text("已显示 0 个案件。")
    page.get_by_label("决策").select_option("review")
    expect(page.locator("#queue").get_by_role("row")).to_have_count(3)

    # The case: the transaction, the explanation drawn as a chart (the table stays for screen readers).
    page.locator("#queue").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="交易信息")).to_be_visible()
    expect(page.locator("#explain-canvas")).to_be_visible()
    expect(page.locator("#explain")).to_be_attached()
    expect(page.locator("#features-customer .row-fired")).to_contain_text("customer_count_1h")
    expect(page.locator("main")).not_to_contain_text("203.0.113.45")  # the IP shows masked
    expect(page.locator("main")).to_contain_text("203.0.*.*")
    shoot(page, "staff-risk-02-case")
    assert blocking(page) == []
    page.screenshot(path=str(SCREENSHOTS / "staff-risk-03-case-full.png"), full_page=True)

    # By keyboard: the header's link jumps to the actions. A decision needs a note: refused next to the
    # field, then done.
    page.get_by_role("link", name="前往处理").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#act-heading")).to_be_in_viewport()
    page.locator("#release").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("处理说明（必填）")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-note-error")).to_contain_text("请填写说明")
    assert blocking(page) == []
    page.get_by_label("处理说明（必填）").fill("已电话联系客户本人，确认是其本人为购房支付定金。")
    page.keyboard.press("Tab")  # from the note to the release button
    expect(page.locator("#release")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("已放行：暂扣的交易将继续执行")).to_be_visible()
    expect(page.locator("#trail")).to_contain_text("张分析")
    shoot(page, "staff-risk-04-released")

    # Two analysts on the second case: the checker's page is open before the maker confirms fraud.
    staff_sign_in(second_page, team.checker.username)
    second_page.goto(f"/staff/risk/cases/{second}")
    page.goto(f"/staff/risk/cases/{second}")
    page.get_by_label("处理说明（必填）").fill("新设备首次大额转账，客户否认交易。")
    page.locator("#confirm").click()
    expect(page.get_by_text("已确认欺诈：暂扣的交易已取消")).to_be_visible()
    second_page.get_by_label("处理说明（必填）").fill("核实后放行。")
    second_page.locator("#release").click()
    conflict = second_page.locator("#conflict")
    expect(conflict).to_contain_text("其他分析员已先处理此案件")
    expect(conflict).to_contain_text("张分析")
    expect(second_page.locator("#trail").get_by_text("放行", exact=True)).to_have_count(0)  # not done twice
    shoot(second_page, "staff-risk-05-conflict")
    assert blocking(second_page) == []

    # Block the new device the fraud came from, for 30 days.
    page.get_by_label("对象").select_option("device")
    page.get_by_label("名单", exact=True).select_option("block")
    page.get_by_label("原因（必填）").fill("欺诈交易所用设备")
    page.locator("#add-to-list").click()
    expect(page.get_by_text("已加入名单，从下一笔决策起生效。")).to_be_visible()
    expect(page.locator("#trail")).to_contain_text("加入黑名单")
    assert first != second


def test_a_rule_goes_from_proposal_through_backtest_to_a_second_analysts_approval(desk_page, db):  # type: ignore[no-untyped-def]
    page = desk_page
    who = seed_customer(db, username="mei", display_name="王美丽")
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team)

    staff_sign_in(page, team.maker.username)
    page.goto("/staff/risk/rules")
    expect(page.get_by_role("heading", name="风控规则", level=1)).to_be_visible()
    page.get_by_role("link", name="提议新规则").click()
    page.get_by_label("规则标识").fill("large_night_transfer")
    page.get_by_label("命中时").select_option("review")
    page.get_by_label("规则表达式").fill("amout > 0.5 * customer_amount_mean_30d and is_night")
    page.locator("#propose").click()
    # Refused next to the field, with the language's message and a marker where it points.
    expect(page.locator("#f-expression-error")).to_contain_text("did you mean 'amount'")
    expect(page.locator("#expr-pointer mark")).to_have_text("a")
    expect(page.get_by_label("规则表达式")).to_have_attribute("aria-invalid", "true")
    shoot(page, "staff-risk-06-rule-error")
    assert blocking(page) == []
    page.get_by_label("规则表达式").fill("amount > 0.5 * customer_amount_mean_30d and is_night")
    page.locator("#backtest-draft").click()
    expect(page.locator("#backtest-result")).to_be_visible()
    expect(page.locator("#bt-fired")).to_have_text(re.compile(r"^\d+$"))
    shoot(page, "staff-risk-07-rule-backtest")
    assert blocking(page) == []
    page.get_by_label("给审批人的说明").fill("夜间异常大额")
    page.locator("#propose").click()
    expect(page.get_by_text("已提交。须经另一人审批后才生效。")).to_be_visible()
    expect(page.locator("#approve")).to_have_count(0)  # never for the maker
    expect(page.get_by_text("这是您的提议，须由其他人审批。")).to_be_visible()
    rule_url = page.url.split("?")[0]

    page.get_by_role("button", name="退出").click()
    staff_sign_in(page, team.checker.username)
    page.goto(rule_url)
    expect(page.locator("#approve-needs-backtest")).to_be_visible()
    page.locator("#run-backtest").click()
    expect(page.locator("#bt-precision")).to_be_visible()
    page.locator("#approve").click()
    expect(page.get_by_text("已批准并发布")).to_be_visible()
    expect(page.locator("#decision-note")).to_contain_text("backtest")
    shoot(page, "staff-risk-08-rule-approved")
    assert blocking(page) == []
    page.goto("/staff/risk/rules")
    expect(page.locator("#rules-shadow")).to_contain_text("large_night_transfer")
    expect(page.locator("#rules-shadow")).to_contain_text("张分析")
    expect(page.locator("#rules-shadow")).to_contain_text("李复核")
    shoot(page, "staff-risk-09-rules")
    assert blocking(page) == []


def test_lists_and_models_in_both_languages(desk_page, db):  # type: ignore[no-untyped-def]
    page = desk_page
    who = seed_customer(db, username="mei", display_name="王美丽")
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team)

    staff_sign_in(page, team.maker.username)
    page.goto("/staff/risk/lists")
    add = page.get_by_role("region", name="添加条目")
    add.get_by_label("名单", exact=True).select_option("block")
    add.get_by_label("对象", exact=True).select_option("ip")
    add.get_by_label("取值").fill("198.51.100.77")
    add.get_by_label("有效期（天）").fill("abc")
    add.get_by_label("原因（必填）").fill("撞库攻击来源")
    page.locator("#add-entry").click()
    expect(add.get_by_label("有效期（天）")).to_have_attribute("aria-invalid", "true")
    expect(add.get_by_label("取值")).to_have_value("198.51.100.77")  # what was typed comes back
    assert blocking(page) == []
    add.get_by_label("有效期（天）").fill("7")
    page.locator("#add-entry").click()
    expect(page.get_by_text("已添加，从下一笔决策起生效。")).to_be_visible()
    entries = page.locator("#entries")
    expect(entries).to_contain_text("198.51.*.*")
    expect(page.locator("main")).not_to_contain_text("198.51.100.77")
    shoot(page, "staff-risk-10-lists")
    assert blocking(page) == []
    entries.get_by_label(re.compile("198.51")).fill("误报，已核实为企业出口地址")
    entries.get_by_role("button", name=re.compile("移除")).click()
    expect(page.get_by_text("已移除，不再生效。")).to_be_visible()
    expect(page.locator("#list-trail")).to_contain_text("移出")

    page.goto("/staff/risk/models")
    expect(page.locator("#models")).to_contain_text("冠军")
    shoot(page, "staff-risk-11-models")
    assert blocking(page) == []

    # English: the same pages, the other language.
    page.get_by_role("button", name="English").click()
    page.goto("/staff/risk/models")
    expect(page.get_by_role("heading", name="Model registry", level=1)).to_be_visible()
    assert blocking(page) == []
    page.goto("/staff/risk/lists")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    shoot(page, "staff-risk-12-lists-en")
    assert blocking(page) == []
