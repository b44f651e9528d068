"""QR pay in the browser: where the camera cannot scan, paste the code's text; confirm; pay."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.browser_support import shoot, sign_in
from tests.web.mobile.factories import qr_code, seed_customer

pytestmark = pytest.mark.browser


def test_paste_a_code_confirm_and_pay(page, db):
    who = seed_customer(db, username="qrpay")
    payload = qr_code(db, amount_minor=3_600, name="街角咖啡")
    sign_in(page, who.username, who.password)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="扫一扫").click()
    page.wait_for_url("**/pay/qr")
    # Headless Chromium on Linux has no BarcodeDetector: the page says so and offers paste and upload.
    expect(page.locator("[data-qr-status]")).to_contain_text("粘贴或上传")
    shoot(page, "13-qr-scan")
    page.get_by_label("二维码内容").fill(payload)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/pay/qr/review")
    expect(page.get_by_role("heading", name="街角咖啡")).to_be_visible()
    expect(page.locator(".summary")).to_contain_text("¥36.00")
    shoot(page, "14-qr-confirm")
    page.get_by_role("button", name="确认付款").click()
    page.wait_for_url("**/transfer/result/**")
    expect(page.get_by_role("heading", name="付款成功")).to_be_visible()
    shoot(page, "15-qr-result")


def test_upload_a_text_file_with_the_code(page, db, tmp_path):
    who = seed_customer(db, username="qrfile")
    payload = qr_code(db, amount_minor=None, name="菜市场")
    code = tmp_path / "code.txt"
    code.write_text(payload + "\n")
    sign_in(page, who.username, who.password)
    page.goto("/pay/qr")
    page.get_by_label("上传文件").set_input_files(str(code))
    page.wait_for_url("**/pay/qr/review")
    expect(page.get_by_role("heading", name="菜市场")).to_be_visible()
    page.get_by_label("输入付款金额").fill("12.5")
    page.get_by_role("button", name="确认付款").click()
    page.wait_for_url("**/transfer/result/**")
    expect(page.locator(".result")).to_contain_text("¥12.50")
