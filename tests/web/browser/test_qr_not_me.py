""""This wasn't me" on a QR payment's challenge in a real browser: paste a code, confirm, the checks ask
"was this you?", the customer says no, and the result page says the payment was stopped and reported.
The challenge comes from a rule published through `atrium.risk.service`. Screenshots at a phone viewport."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.payments import risk_support as rs
from tests.web.browser_support import shoot, sign_in
from tests.web.mobile.factories import qr_code, seed_customer

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fresh_risk(monkeypatch):  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)  # the live server runs in this process: same settings
    with rs.fresh():
        yield


def test_a_challenged_qr_payment_disowned_is_stopped_and_reported(page, db):
    who = seed_customer(db, username="qrnotme")
    payload = qr_code(db, amount_minor=8_800, name="街角咖啡", reference="order-notme")
    rs.publish_rule(db, "qr_over_fifty", 'channel == "qr" and amount > 50', "challenge",
                    reason="behaviour.unusual_amount")
    sign_in(page, who.username, who.password)
    page.goto("/pay/qr")
    page.get_by_label("二维码内容").fill(payload)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/pay/qr/review")
    page.get_by_role("button", name="确认付款").click()

    expect(page.get_by_role("heading", name="这是您本人的操作吗？")).to_be_visible()
    not_me = page.get_by_role("button", name="不是我本人 — 停止这笔付款")
    expect(not_me).to_be_visible()
    not_me.scroll_into_view_if_needed()
    shoot(page, "qr-not-me-01-was-this-you")
    not_me.click()

    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    expect(page.get_by_role("heading", name="付款已停止")).to_be_visible()
    expect(page.locator(".result")).to_contain_text("¥88.00")
    expect(page.locator("#risk-status")).to_contain_text("不是您本人操作")
    expect(page.locator("#risk-status")).to_contain_text("您的账户没有扣款")
    expect(page.get_by_role("link", name="继续扫码")).to_be_visible()
    shoot(page, "qr-not-me-02-stopped")
    [decision] = rs.decisions(db, channel="qr")
    assert decision.challenge_result == "disowned"
