"""The app shell in a real browser, at a phone viewport, with screenshots of every step:

- a company operator switches identity and sees the enterprise services (the home, the services and the
  bottom tabs change with the role), opens the company overview and switches back;
- a merchant issues a collection code;
- axe-core (WCAG 2.2 AA) on every shell page — home, all services and its search, the leaving page, the
  identity switcher, /biz, /merchant — in Chinese and English, and 44 px targets.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from atrium.catalog import service as catalog
from tests.web.browser.test_accessibility import _small_targets
from tests.web.browser_support import PHONE, axe_violations, shoot, sign_in
from tests.web.mobile import shell_support as shell
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser

PARTNER = """
line = "life"

[[services]]
key = "life.partner_shop"
version = 1
icon = "store"
target = "https://shop.example.com/atrium"
identity_kinds = ["person"]
placements = ["grid"]
name = { zh = "合作商城", en = "Partner shop" }
description = { zh = "合作伙伴的网上商城", en = "A partner's online shop" }
"""


def _tab_labels(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.strip() for t in page.locator("nav.tabbar a span:not(.scan-disc)").all_inner_texts()]


def test_a_company_operator_switches_identity_and_sees_the_enterprise_services(page, db):
    who = seed_customer(db, username="operator.li", display_name="李娜")
    shell.sync_catalogue(db)
    company = shell.add_company(db, who.customer_id)
    sign_in(page, who.username, who.password)

    expect(page.locator(".identity-chip")).to_contain_text("个人")
    person_tabs = _tab_labels(page)
    assert "转账" in person_tabs
    expect(page.locator(".home-quick").get_by_role("link", name="转账")).to_be_visible()
    shoot(page, "shell-01-home-person")

    page.locator(".identity-chip").click()
    page.wait_for_url("**/identities")
    expect(page.get_by_role("heading", name="我的身份")).to_be_visible()
    shoot(page, "shell-02-identities")
    page.get_by_role("button", name="切换到此身份").click()

    page.wait_for_url("**/?switched=1")
    expect(page.get_by_role("status").first).to_contain_text("上海青禾贸易有限公司")
    expect(page.locator(".identity-chip")).to_contain_text("上海青禾贸易有限公司 · 财务")
    company_tabs = _tab_labels(page)
    v = shell.viewer(db, who.customer_id, company)
    with db.read_session() as s:
        expected_tabs = [t.text("zh") for t in catalog.tabs_for(s, v)]
        enterprise = [x for x in catalog.visible_services(s, v) if x.line == "enterprise"]
    assert company_tabs == expected_tabs and company_tabs != person_tabs
    assert "转账" not in company_tabs
    expect(page.locator(".home-quick").get_by_role("link", name="企业概览")).to_be_visible()
    expect(page.locator(".home-quick").get_by_role("link", name="转账")).to_have_count(0)
    expect(page.locator(".hero")).not_to_contain_text("¥")  # not the person's balances
    shoot(page, "shell-03-home-company")

    page.locator("nav.tabbar").get_by_role("link", name="全部服务").click()
    page.wait_for_url("**/services")
    group = page.locator("section.line-group", has=page.get_by_role("heading", name="企业服务"))
    expect(group).to_be_visible()
    for x in enterprise:
        expect(group.get_by_role("link", name=x.label("zh"))).to_be_visible()
    expect(page.get_by_role("link", name="转账")).to_have_count(0)
    shoot(page, "shell-04-services-company")

    group.get_by_role("link", name="企业概览").click()
    page.wait_for_url("**/biz")
    expect(page.get_by_role("heading", name="上海青禾贸易有限公司")).to_be_visible()
    expect(page.locator(".org-card")).to_contain_text("9131**********001X")
    shoot(page, "shell-05-biz")

    page.get_by_role("button", name="切换回个人身份").click()
    page.wait_for_url("**/?switched=1")
    expect(page.locator(".identity-chip")).to_contain_text("个人")
    assert _tab_labels(page) == person_tabs
    shoot(page, "shell-06-home-back")


def test_searching_as_you_type_and_leaving_for_a_partner(page, db, tmp_path: Path):
    who = seed_customer(db, username="searcher")
    (tmp_path / "partner.toml").write_text(PARTNER, encoding="utf-8")
    shell.sync_catalogue(db, [*catalog.definition_dirs(), tmp_path])
    sign_in(page, who.username, who.password)
    page.goto("/services")
    shoot(page, "shell-07-services")
    page.get_by_role("searchbox", name="搜索服务").press_sequentially("汇款", delay=40)
    results = page.locator("#service-results")
    expect(results.get_by_role("heading", name=re.compile("汇款"))).to_be_visible()
    expect(results.get_by_role("link", name=re.compile("转账"))).to_be_visible()
    expect(page.locator("#live")).to_contain_text("找到")
    assert "q=" in page.url  # the results have an address of their own
    shoot(page, "shell-08-search")
    page.get_by_role("searchbox", name="搜索服务").fill("商城")
    results.get_by_role("link", name=re.compile("合作商城")).click()
    page.wait_for_url("**/go/life.partner_shop")
    expect(page.get_by_role("heading", name="您即将离开 Atrium 银行")).to_be_visible()
    expect(page.get_by_role("link", name="继续前往 shop.example.com")).to_have_attribute(
        "rel", "noopener noreferrer external")
    shoot(page, "shell-09-leaving")


def test_a_merchant_issues_a_collection_code(page, db):
    who = seed_customer(db, username="shopkeeper")
    shell.sync_catalogue(db)
    identity, _ = shell.add_merchant(db, who.customer_id)
    sign_in(page, who.username, who.password)
    page.goto("/identities")
    page.get_by_role("button", name="切换到此身份").click()
    page.wait_for_url("**/?switched=1")
    page.locator(".org-open").click()
    page.wait_for_url("**/merchant")
    expect(page.get_by_role("heading", name="街角咖啡")).to_be_visible()
    page.get_by_label(re.compile("^金额")).fill("18.80")
    page.get_by_role("button", name="生成收款码").click()
    expect(page.get_by_role("img", name="街角咖啡的收款二维码")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    page.get_by_role("img", name="街角咖啡的收款二维码").scroll_into_view_if_needed()
    shoot(page, "shell-10-merchant-code")


# --- accessibility ------------------------------------------------------------------------------------


@pytest.fixture()
def audit_page(browser, live_server, db):  # type: ignore[no-untyped-def]
    # axe is injected as a script, which the app's CSP (rightly) forbids: this context bypasses the CSP.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server, bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()




@pytest.mark.database_independent  # axe and page layout: the same on any database
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_shell_pages_pass_axe_in_both_languages(audit_page, db, tmp_path, lang):
    page = audit_page
    who = seed_customer(db, username=f"a11y.shell.{lang}")
    (tmp_path / "partner.toml").write_text(PARTNER, encoding="utf-8")
    shell.sync_catalogue(db, [*catalog.definition_dirs(), tmp_path])
    company = shell.add_company(db, who.customer_id)
    merchant, _ = shell.add_merchant(db, who.customer_id)
    sign_in(page, who.username, who.password)
    if lang == "en":
        page.context.add_cookies([{"name": "atrium_locale", "value": "en", "url": page.url}])
    page.goto("/go/retail.transfer")  # something in "frequently used"
    problems, small = {}, {}

    def audit(name: str) -> None:
        problems[name] = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
        small[name] = _small_targets(page)

    for path in ("/", "/services", "/services?q=" + ("转账" if lang == "zh" else "transfer"),
                 "/go/life.partner_shop", "/identities", "/identities?need=merchant"):
        page.goto(path)
        audit(path)
    shoot(page, f"shell-a11y-identities-{lang}")
    page.locator(f'form[action="/identities/{company.id}/switch"] button').click()
    page.wait_for_url("**/?switched=1")
    audit("home as company")
    page.goto("/biz")
    audit("/biz")
    shoot(page, f"shell-a11y-biz-{lang}")
    page.goto("/identities")
    page.locator(f'form[action="/identities/{merchant.id}/switch"] button').click()
    page.wait_for_url("**/?switched=1")
    page.goto("/merchant")
    audit("/merchant")
    page.locator('form[action="/merchant/qr"] button[type=submit]').click()
    page.wait_for_load_state()
    audit("/merchant code")
    page.locator("#code-amount").fill("x")
    page.locator('form[action="/merchant/qr"] button[type=submit]').click()
    page.wait_for_load_state()
    audit("/merchant errors")
    shoot(page, f"shell-a11y-merchant-errors-{lang}")
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, bad
    tiny = {k: v for k, v in small.items() if v}
    assert not tiny, tiny


# --- elder mode ---------------------------------------------------------------------------------------


def test_in_elder_mode_a_customer_finds_transfer_by_search_and_pays_a_saved_payee(page, db):
    from sqlalchemy import select

    from atrium.accounts import service as accounts
    from atrium.identity.devices.models import Device
    from atrium.kit import clock
    from atrium.payments import service as payments
    from atrium.payments.schemas import PayeeCreate
    from tests.auth_support import phone_for
    from tests.web.browser_support import last_code_of

    who = seed_customer(db, username="grandpa.zhang", display_name="张大爷")
    landlord = seed_customer(db, username="landlord.li", display_name="李房东", balance_minor=0,
                             savings=False)
    shell.sync_catalogue(db)
    with db.unit_of_work() as s:
        payments.save_payee(s, customer_id=who.customer_id, data=PayeeCreate(
            type="atrium", account_number=landlord.accounts[0].number, account_name="李房东",
            nickname="房东"))
    sign_in(page, who.username, who.password)
    with db.unit_of_work() as s:  # the device bound at sign-in is past its new-device caps (a day later)
        for device in s.scalars(select(Device).where(Device.customer_id == who.customer_id)):
            device.cooling_off_until = clock.now() - timedelta(minutes=1)

    # 1. Elder mode, chosen on the settings page.
    page.goto("/settings")
    page.get_by_role("button", name=re.compile("长辈版")).click()
    expect(page.locator("html")).to_have_class(re.compile("mode-elder"))
    page.goto("/")
    expect(page.locator("body")).to_have_class(re.compile("mode-elder"))
    shoot(page, "shell-elder-01-home")

    # 2. All services → search "转账" → the transfer service, found by the catalogue's search.
    page.locator("nav.tabbar").get_by_role("link", name=re.compile("服务")).click()
    page.wait_for_url("**/services")
    shoot(page, "shell-elder-02-services")
    page.get_by_role("searchbox", name="搜索服务").press_sequentially("转账", delay=60)
    results = page.locator("#service-results")
    expect(results.get_by_role("heading", name="“转账”的搜索结果")).to_be_visible()
    expect(page.locator("section.line-group")).to_have_count(0)  # the results replaced the grid
    shoot(page, "shell-elder-03-search")
    results.get_by_role("link", name=re.compile("^转账")).first.click()
    page.wait_for_url("**/transfer")
    shoot(page, "shell-elder-04a-transfer")

    # 3. Pay the saved payee: the form, the read-back confirmation, the SMS step-up, the result.
    page.get_by_role("radio", name=re.compile("房东")).check()
    page.locator("#amount").fill("6000")
    shoot(page, "shell-elder-04-transfer-form")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfer/review")
    expect(page.locator("main")).to_contain_text("人民币陆仟元整")
    page.get_by_role("checkbox").check()
    shoot(page, "shell-elder-05-confirm")
    page.get_by_role("button", name="确认无误，转出").click()
    expect(page.get_by_role("heading", name="再确认一下是您本人", level=2)).to_be_visible()
    shoot(page, "shell-elder-06-step-up")
    page.get_by_role("button", name="把验证码发到我的手机").click()
    page.get_by_label("6 位验证码").first.fill(last_code_of(phone_for(who.username)))
    page.get_by_role("button", name="确认", exact=True).first.click()  # the page then posts the transfer
    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    expect(page.get_by_role("heading", name="钱已经转过去了")).to_be_visible()
    expect(page.locator(".result")).to_contain_text("¥6,000.00")
    shoot(page, "shell-elder-07-result")

    with db.read_session() as s:
        paid = accounts.get_owned(s, customer_id=landlord.customer_id, account_id=landlord.accounts[0].id)
        left = accounts.get_owned(s, customer_id=who.customer_id, account_id=who.accounts[0].id)
    assert (paid.booked_minor, left.booked_minor) == (600_000, 1_250_000 - 600_000)

    # 4. The home's "frequently used" row now offers the transfer service (opened through /go).
    page.goto("/")
    expect(page.locator(".home-frequent").get_by_role("link", name=re.compile("转账"))).to_be_visible()
    shoot(page, "shell-elder-08-home-frequent")
