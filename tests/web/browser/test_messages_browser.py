"""The inbox in a real browser: a transfer made in the app produces a message (the relay and the delivery
job run as the serving process would run them), the customer finds it unread in the inbox, opens it, and
it is read. Mark-all-read works through htmx and announces itself; axe finds nothing serious on the
inbox, a message or the settings, in Chinese and English. Screenshots at a phone viewport."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from atrium.events.relay import relay_once
from atrium.messages import service as messages
from atrium.messages.domain import Money
from atrium.messages.tasks import deliver_pending
from tests.web.browser.test_accessibility import _small_targets
from tests.web.browser_support import PHONE, axe_violations, shoot, sign_in
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser


def test_a_transfer_arrives_in_the_inbox_and_opening_it_marks_it_read(page, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="inboxer", display_name="王美")
    current, _ = who.accounts
    sign_in(page, who.username, who.password)

    page.goto("/transfer")
    page.get_by_role("group", name="收款方").get_by_role("radio", name=re.compile("储蓄账户")).check()
    page.get_by_label("转账金额").fill("88.00")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfer/review")
    page.get_by_role("button", name="确认转账").click()
    page.wait_for_url(re.compile(r"/transfer/result/trf_"))

    # What the serving process's relay thread and delivery job do in the background.
    relay_once(db)
    assert deliver_pending(db).outcomes == {"sent": 1}  # the push notification (transactions' default)

    page.goto("/messages")
    expect(page.get_by_role("heading", name="消息", exact=True)).to_be_visible()
    item = page.locator("#message-list li.entry").first
    expect(item).to_contain_text("转账成功")
    expect(item).to_contain_text("未读")
    expect(item).to_contain_text("¥88.00")
    expect(page.locator("#unread-count")).to_have_text("1 条未读")
    shoot(page, "messages-01-inbox-unread")

    item.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/messages/msg_"))
    expect(page.get_by_role("heading", name="转账成功")).to_be_visible()
    expect(page.locator("article")).to_contain_text(f"尾号{current.number[-4:]}")
    shoot(page, "messages-02-detail")
    page.get_by_role("link", name="查看").click()
    page.wait_for_url(f"**/accounts/{current.id}")

    page.goto("/messages")
    item = page.locator("#message-list li.entry").first
    expect(item).to_contain_text("转账成功")
    expect(item).not_to_contain_text("未读")
    expect(page.locator("#unread-count")).to_have_text("0 条未读")
    expect(page.get_by_role("button", name="全部标为已读")).to_have_count(0)
    shoot(page, "messages-03-inbox-read")


def test_mark_all_read_through_htmx_announces_it(page, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="reader")
    with db.unit_of_work() as s:
        for i in range(3):
            messages.send_templated(
                s, customer_id=who.customer_id, template_key="transfer.received", dedup_key=f"b{i}",
                values={"amount": Money(10_00 * (i + 1), "CNY"), "account": "0001",
                        "account_id": who.accounts[0].id},
            )
    sign_in(page, who.username, who.password)
    page.goto("/messages")
    expect(page.locator("#message-list li.entry")).to_have_count(3)
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator("#live")).to_have_text("已将 3 条消息标为已读")
    expect(page.locator("#unread-count")).to_have_text("0 条未读")
    expect(page).to_have_url(re.compile(r"/messages$"))  # redrawn in place, no reload
    shoot(page, "messages-04-all-read")
    page.goto("/messages/settings")
    expect(page.get_by_role("checkbox", name="接收 Atrium 的优惠与资讯")).not_to_be_checked()
    expect(page.get_by_role("group", name="安全").get_by_role("checkbox", name="短信")).to_be_disabled()
    shoot(page, "messages-05-settings")


@pytest.fixture()
def audit_page(browser, live_server, db):  # type: ignore[no-untyped-def]
    # axe is injected as a script, which the app's CSP forbids: this context bypasses the CSP.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server, bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.mark.database_independent  # axe and page layout: the same on any database
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_inbox_pages_pass_axe_and_have_44px_targets(audit_page, live_server, db, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = audit_page
    who = seed_customer(db, username=f"axe{lang}", locale=lang)
    with db.unit_of_work() as s:
        ids = [
            messages.send_templated(
                s, customer_id=who.customer_id, template_key="transfer.received", dedup_key=f"a{i}",
                values={"amount": Money(1_00, "CNY"), "account": "0001", "account_id": who.accounts[0].id},
            ).id  # type: ignore[union-attr]
            for i in range(25)
        ]
    sign_in(page, who.username, who.password)
    if lang == "en":
        page.context.add_cookies([{"name": "atrium_locale", "value": "en", "url": live_server}])
    problems, small = {}, {}
    for path in ("/messages", "/messages?category=security", f"/messages/{ids[0]}", "/messages/settings"):
        page.goto(path)
        problems[path] = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
        small[path] = _small_targets(page)
    page.goto("/messages")
    page.locator(".load-more a").click()  # the htmx "more" adds the older messages in place
    expect(page.locator("#message-list li.entry")).to_have_count(25)
    problems["more"] = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    if lang == "en":
        shoot(page, "messages-06-inbox-en-more")
    problems = {k: v for k, v in problems.items() if v}
    small = {k: v for k, v in small.items() if v}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert not small, json.dumps(small, ensure_ascii=False, indent=1)
