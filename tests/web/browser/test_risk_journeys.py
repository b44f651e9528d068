"""The anti-fraud journey in a real browser: a suspicious transfer is challenged ("was this you?" with the
reason) and the customer confirms it; another is held for review and the analyst releases it in the staff
console (/staff/risk/cases/…); a third is declined with a reason the customer can read. The outcomes come
from a rule set and a block-list entry published through `atrium.risk.service` — nothing is hard-coded.
Screenshots of each step at a phone viewport (the console at a desktop one)."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

import pytest
from playwright.sync_api import expect

from atrium.events.relay import relay_once
from atrium.risk.domain import reasons
from tests.payments import risk_support as rs
from tests.web.browser_support import axe_violations, complete_step_up, shoot, sign_in
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import make_staff

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fresh_risk(monkeypatch):  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)  # the live server runs in this process: same settings
    with rs.fresh():
        yield


def audit(page, url: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """axe-core on `url` as this customer sees it. The CSP (rightly) forbids an injected script, so axe
    runs in a second, CSP-bypassing context with the same cookies."""
    context = page.context.browser.new_context(viewport=page.viewport_size, bypass_csp=True, locale="zh-CN",
                                               storage_state=page.context.storage_state())
    try:
        other = context.new_page()
        other.goto(urljoin(page.url, url))
        return axe_violations(other)
    finally:
        context.close()


def step_up_url(page) -> str:  # type: ignore[no-untyped-def]
    """The same challenge page as a GET (the form htmx is sent to), for the accessibility check."""
    form = page.locator('form[action="/step-up/send"]')
    fields = {name: form.locator(f'input[name="{name}"]').get_attribute("value")
              for name in ("challenge", "return_to")}
    return "/step-up?" + urlencode(fields)


def pay(page, number: str, amount: str) -> None:  # type: ignore[no-untyped-def]
    """Fill the transfer form for a new payee's account number and confirm it."""
    page.goto("/transfer")
    page.get_by_role("radio", name="输入中庭银行账号").check()
    page.get_by_label("收款账号").fill(number)
    page.get_by_label("转账金额").fill(amount)
    page.get_by_label("附言").fill("房租")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfer/review")
    page.get_by_role("button", name="确认转账").click()


def release_in_console(browser, live_server, db, case_id: str) -> None:  # type: ignore[no-untyped-def]
    """An analyst signs in to the staff console, opens the case and releases the held payment."""
    analyst = make_staff(db, "risk_analyst", username="fraud.wang", display_name="王分析")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_server, extra_http_headers={"Accept-Language": "zh-CN"})
    context.set_default_timeout(10_000)
    desk = context.new_page()
    try:
        desk.goto("/staff/login")
        desk.get_by_label("员工用户名").fill(analyst.username)
        desk.get_by_label("密码", exact=True).fill(analyst.password)
        desk.get_by_role("button", name="登录", exact=True).click()
        desk.wait_for_url(re.compile(r"/staff$"))
        desk.goto(f"/staff/risk/cases/{case_id}")
        desk.locator("#f-note").fill("已电话联系客户，确认本人操作")
        shoot(desk, "risk-04-console-case")
        desk.locator("#release").click()
        desk.wait_for_url(re.compile(rf"/staff/risk/cases/{case_id}\?done=release"))
        shoot(desk, "risk-05-console-released")
    finally:
        context.close()


def test_challenged_confirmed_held_released_and_declined(page, browser, live_server, db):
    mei = seed_customer(db, username="riskjourney", display_name="王美")
    landlord = seed_customer(db, username="landlord", display_name="李雷", savings=False, balance_minor=0)
    mule = seed_customer(db, username="mule", display_name="赵六", savings=False, balance_minor=0)
    rs.publish_rule(db, "new_payee_large", rs.CHALLENGE_NEW_PAYEE, "challenge", reason="behaviour.new_payee")
    # The browser binds its device key at sign-in, and a new device may send at most ¥2,000 per payment
    # for a day (cooling-off): the journey's amounts stay below that.
    rs.publish_rule(db, "large_amount", "amount > 1500", "review", reason="behaviour.unusual_amount")
    rs.block_payee(db, rs.atrium_payee(mule.accounts[0].number))
    sign_in(page, mei.username, mei.password)

    # 1. A first, larger payment to a new payee: "was this you?", with the reason; the customer confirms.
    pay(page, landlord.accounts[0].number, "1,200")
    expect(page.get_by_role("heading", name="这是您本人的操作吗？")).to_be_visible()
    new_payee = reasons.text("behaviour.new_payee", "zh", channel="transfer")
    expect(page.locator("#risk-reasons")).to_contain_text(new_payee)
    expect(page.locator("#risk-warning")).to_contain_text("骗子常冒充银行")
    expect(page.get_by_role("button", name="不是我本人 — 停止这笔付款")).to_be_visible()
    shoot(page, "risk-01-was-this-you")
    assert audit(page, step_up_url(page)) == []
    complete_step_up(page, mei.phone)  # type: ignore[arg-type]
    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    expect(page.get_by_role("heading", name="转账成功")).to_be_visible()
    expect(page.locator(".result")).to_contain_text("¥1,200.00")
    shoot(page, "risk-02-challenge-confirmed")

    # 2. A payment above the review threshold: held, "being checked — we'll message you".
    pay(page, landlord.accounts[0].number, "1,800")
    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    held_url = page.url
    expect(page.get_by_role("heading", name="付款正在安全审核")).to_be_visible()
    expect(page.locator("#risk-status")).to_contain_text("审核完成后我们会通知您")
    shoot(page, "risk-03-held")
    assert audit(page, page.url) == []
    transfer_id = held_url.rsplit("/", 1)[1]
    row = rs.transfer_row(db, transfer_id)
    assert row.status == "held" and row.risk_decision_id
    release_in_console(browser, live_server, db, rs.case_for(db, row.risk_decision_id).id)
    relay_once(db)  # the verdict reaches payments (and the inbox) through the outbox
    page.goto(held_url)
    expect(page.get_by_role("heading", name="转账成功")).to_be_visible()
    page.goto("/messages")
    # One message says the released payment went through: its completion (a "check complete, on its way"
    # before it would only repeat that).
    released = page.locator("li.entry").filter(has_text="转账成功").filter(has_text="1,800.00")
    expect(released).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("付款已通过安全审核")
    shoot(page, "risk-06-inbox-released")

    # 3. A payment to a block-listed account: declined, with a reason the customer can read.
    pay(page, mule.accounts[0].number, "300")
    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    expect(page.get_by_role("heading", name="付款未能完成")).to_be_visible()
    blocked = reasons.text("list.block.payee", "zh", channel="transfer")
    expect(page.locator("#risk-status")).to_contain_text(blocked)
    expect(page.locator("#risk-status")).to_contain_text("您的账户没有扣款")
    shoot(page, "risk-07-declined")
    assert audit(page, page.url) == []

    page.goto("/transfers")
    statuses = page.locator("#transfers .transfer-status")
    expect(statuses).to_have_text(["未通过", "已完成", "已完成"])
    shoot(page, "risk-08-history")
    assert audit(page, "/transfers") == []
    with db.read_session() as s:
        from atrium.accounts import service as accounts

        assert accounts.get_by_id(s, landlord.accounts[0].id).booked_minor == 300_000
        assert accounts.get_by_id(s, mule.accounts[0].id).booked_minor == 0
