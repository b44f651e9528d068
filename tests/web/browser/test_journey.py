"""The customer's main journey in a real browser: sign in → home → transfer to an own account →
confirmation → result → the statement shows it. Screenshots of every step at a phone viewport."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.browser_support import second_factor, shoot, sign_in
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser


def test_sign_in_transfer_to_own_account_and_see_it_on_the_statement(page, db):
    who = seed_customer(db, username="journey", display_name="王美")
    current, savings = who.accounts

    page.goto("/login")
    expect(page).to_have_title(re.compile("欢迎回来"))
    shoot(page, "01-login")
    sign_in(page, who.username, who.password)

    expect(page.get_by_role("heading", name="总资产")).to_be_visible()
    expect(page.locator(".hero")).to_contain_text("¥12,500.00")
    expect(page.get_by_role("link", name="转账").first).to_be_visible()
    shoot(page, "02-home")

    page.locator(".home-quick").get_by_role("link", name="转账").click()
    page.wait_for_url("**/transfer")
    expect(
        page.get_by_role("group", name="付款账户").get_by_role("radio", name=re.compile("日常账户"))
    ).to_be_checked()
    page.get_by_role("group", name="收款方").get_by_role("radio", name=re.compile("储蓄账户")).check()
    page.get_by_label("转账金额").fill("2,345.60")
    page.get_by_label("附言").fill("存起来")
    shoot(page, "03-transfer-form")
    page.get_by_role("button", name="下一步").click()

    page.wait_for_url("**/transfer/review")
    expect(page.locator(".summary")).to_contain_text("¥2,345.60")
    expect(page.locator(".summary")).to_contain_text("免费")
    shoot(page, "04-transfer-confirm")
    page.get_by_role("button", name="确认转账").click()

    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    expect(page.get_by_role("heading", name="转账成功")).to_be_visible()
    expect(page.locator(".result")).to_contain_text("¥2,345.60")
    shoot(page, "05-transfer-result")

    page.get_by_role("link", name="查看账户明细").click()
    page.wait_for_url(f"**/accounts/{current.id}")
    first = page.locator("li.entry").first
    expect(first).to_contain_text("存起来")
    expect(first).to_contain_text("-¥2,345.60")
    expect(page.locator(".acct-head")).to_contain_text("¥10,154.40")
    shoot(page, "06-statement")


def test_a_refused_transfer_is_explained_inline(page, db):
    who = seed_customer(db, username="broke", balance_minor=1_000)
    sign_in(page, who.username, who.password)
    page.goto("/transfer")
    page.get_by_label("转账金额").fill("50")
    page.get_by_role("button", name="下一步").click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("请检查")
    expect(page.locator("#err-amount")).to_contain_text("可用余额不足")
    expect(page.get_by_label("转账金额")).to_have_attribute("aria-invalid", "true")
    shoot(page, "07-transfer-error")


def test_the_language_switch_turns_the_app_english(page, db):
    who = seed_customer(db, username="english", display_name="Mei Wang")
    page.goto("/login")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password", exact=True).fill(who.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    second_factor(page, who.phone, lang="en")
    page.wait_for_url("**/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    expect(page.locator(".hero")).to_contain_text("CN¥12,500.00")
    shoot(page, "08-home-en")
