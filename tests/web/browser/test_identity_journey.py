"""A new customer's whole identity journey in Chromium, in Chinese, through the real pages only:
open an account on /register (phone → SMS code → details) → sign out → sign in again with the password and
the second factor (this browser's device key is bound) → a large transfer to another customer, confirmed
by an SMS step-up → sign in once more on the same browser: the bound device key stands in for the second
factor. Screenshots of every step go to test-artifacts/screenshots/identity-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from atrium.accounts import service as accounts
from atrium.identity import kyc, sessions
from atrium.identity import service as identity
from atrium.identity.devices import service as devices
from atrium.identity.devices.models import Device, TransactionSignature
from atrium.kit import clock
from atrium.payments.models import Transfer
from tests.web.browser_support import SCREENSHOTS, second_factor
from tests.web.mobile.factories import deposit, seed_customer

pytestmark = pytest.mark.browser

PHONE_TYPED = "139 1234 0001"
PHONE = "+8613912340001"
USERNAME = "li.ming"
PASSWORD = "lantern orchard violet 7"
FUNDS_MINOR = 20_000_00
AMOUNT_MINOR = 6_000_00


def resident_id(region_and_birth: str = "11010519900307", serial: str = "123") -> str:
    """A valid 18-character resident ID number (GB 11643: region, birth date, serial, check character)."""
    first17 = region_and_birth + serial
    return first17 + kyc.id_check_character(first17)


def shot(pg, name: str, *, full: bool = False) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"identity-{name}.png"), full_page=full)


def sign_out(pg) -> None:  # type: ignore[no-untyped-def]
    pg.goto("/settings")
    pg.get_by_role("button", name="退出登录").click()
    pg.wait_for_url("**/login")


def submit_password(pg) -> None:  # type: ignore[no-untyped-def]
    pg.get_by_label("用户名").fill(USERNAME)
    pg.get_by_label("登录密码", exact=True).fill(PASSWORD)
    pg.get_by_role("button", name="登录", exact=True).click()


def stored_device_id(pg) -> str | None:  # type: ignore[no-untyped-def]
    """The device id device.js keeps beside this browser's key in IndexedDB (None: not bound)."""
    return pg.evaluate("AtriumDevice.ensure().then(d => d.deviceId)")


def register(pg) -> None:  # type: ignore[no-untyped-def]
    pg.goto("/register")
    expect(pg.get_by_role("heading", name="开立账户", level=1)).to_be_visible()
    expect(pg.locator("#register-step")).to_contain_text("第 1 步，共 3 步")
    pg.get_by_label("手机号").fill(PHONE_TYPED)
    shot(pg, "01-register-phone")
    pg.get_by_role("button", name="获取验证码").click()

    expect(pg.locator("#register-step")).to_contain_text("第 2 步，共 3 步")
    expect(pg.get_by_role("status").or_(pg.locator(".alert-ok")).first).to_contain_text("139****0001")
    pg.get_by_label("短信验证码").fill(_last_code())
    shot(pg, "02-register-code")
    pg.get_by_role("button", name="下一步").click()

    expect(pg.locator("#register-step")).to_contain_text("第 3 步，共 3 步")
    pg.get_by_label("姓名").fill("李明")
    pg.get_by_label("身份证号").fill(resident_id())
    pg.get_by_label("电子邮箱").fill("ming.li@example.com")
    pg.get_by_label("居住地址").fill("北京市朝阳区建国路 88 号 3 单元 502 室")
    pg.get_by_label("用户名").fill(USERNAME)
    pg.get_by_label("我们怎么称呼您？（选填）").fill("李明")
    pg.get_by_label("登录密码", exact=True).fill(PASSWORD)
    # The policy feedback arrives as the customer types (htmx), and says the password is fine.
    expect(pg.locator("#password-rules")).to_contain_text("密码符合要求")
    shot(pg, "03-register-details", full=True)
    pg.get_by_role("button", name="立即开户").click()

    pg.wait_for_url("**/register/done")
    expect(pg.get_by_role("heading", name=re.compile("^欢迎加入"))).to_be_visible()
    expect(pg.locator(".result")).to_contain_text("CNY")
    shot(pg, "04-register-done")


def _last_code() -> str:
    from tests.auth_support import last_code

    return last_code(PHONE)


def test_register_sign_in_with_sms_transfer_with_step_up_then_the_device_is_trusted(page, db):
    # 1. Open an account: the customer exists, with one open CNY current account, and is signed in.
    register(page)
    with db.read_session() as s:
        customer = identity.find_customer_by_username(s, USERNAME)
        assert customer is not None
        customer_id = customer.id
        [current] = accounts.list_for_customer(s, customer_id)
    assert (current.product, current.currency, current.status) == ("current", "CNY", "open")
    deposit(db, current, FUNDS_MINOR, "Salary")
    page.get_by_role("link", name="查看我的账户").click()
    page.wait_for_url("**/")
    expect(page.locator(".hero")).to_contain_text("¥20,000.00")
    shot(page, "05-home-funded")
    assert stored_device_id(page) is None  # registering does not bind this browser's key

    # 2. Sign out; sign in with the password: a new device, so the second factor by SMS.
    sign_out(page)
    shot(page, "06-login")
    submit_password(page)
    expect(page.get_by_role("heading", name="验证您的身份", level=1)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^发送验证码至"))).to_contain_text("139****0001")
    shot(page, "07-second-factor")
    second_factor(page, PHONE)
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="总资产")).to_be_visible()
    shot(page, "08-home-after-second-factor")
    with db.read_session() as s:
        [bound] = s.scalars(select(Device).where(Device.customer_id == customer_id)).all()
        assert bound.trusted_at is not None and bound.revoked_at is None
        assert devices.cooling_off(s, bound.id)  # just bound: the new-device payment caps apply
        [live] = sessions.list_sessions(s, customer_id)
        assert (set(live.amr.split(",")), live.loa, live.device_id) == ({"pwd", "sms"}, 2, bound.id)
    # The page carried the bound device's id; device.js keeps it beside the key.
    page.wait_for_function("id => AtriumDevice.ensure().then(d => d.deviceId === id)", arg=bound.id)

    # A day later the cooling-off is over (CNY 2,000 per payment until then).
    with db.unit_of_work() as s:
        s.get(Device, bound.id).cooling_off_until = clock.now() - timedelta(minutes=1)

    # 3. A transfer of CNY 6,000 to another customer: review → confirm → step-up by SMS → result.
    payee = seed_customer(db, username="zhang.wei", display_name="张伟", balance_minor=0, savings=False)
    [payee_account] = payee.accounts
    page.locator(".home-quick").get_by_role("link", name="转账").click()
    page.wait_for_url("**/transfer")
    page.get_by_label("收款账号").fill(payee_account.number)
    page.get_by_label("转账金额").fill("6,000")
    page.get_by_label("附言").fill("房租")
    shot(page, "09-transfer-form", full=True)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfer/review")
    expect(page.locator(".summary")).to_contain_text("¥6,000.00")
    shot(page, "10-transfer-review")
    page.get_by_role("button", name="确认转账").click()

    expect(page.get_by_role("heading", name="安全验证", level=2)).to_be_visible()
    expect(page.locator("main")).to_contain_text("大额转账")
    expect(page.locator("main")).to_contain_text("6,000.00")
    expect(page.locator("main")).to_contain_text("…" + payee_account.number[-4:])
    shot(page, "11-step-up")
    with db.read_session() as s:  # nothing moved yet
        unmoved = accounts.get_owned(s, customer_id=customer_id, account_id=current.id)
    assert unmoved.booked_minor == FUNDS_MINOR
    page.get_by_role("button", name="发送验证码至预留手机").click()
    expect(page.get_by_label("6 位验证码").first).to_be_visible()
    shot(page, "12-step-up-code-sent")
    page.get_by_label("6 位验证码").first.fill(_last_code())
    page.get_by_role("button", name="确认", exact=True).first.click()  # then the page re-posts the transfer
    page.wait_for_url(re.compile(r"/transfer/result/trf_"))
    expect(page.get_by_role("heading", name="转账成功")).to_be_visible()
    expect(page.locator(".result")).to_contain_text("¥6,000.00")
    shot(page, "13-transfer-result")

    with db.read_session() as s:  # the money moved, exactly once
        payer = accounts.get_owned(s, customer_id=customer_id, account_id=current.id)
        received = accounts.get_owned(s, customer_id=payee.customer_id, account_id=payee_account.id)
        count = s.scalar(select(func.count()).where(Transfer.customer_id == customer_id))
        transfer_id = s.scalar(select(Transfer.id).where(Transfer.customer_id == customer_id))
        signed = s.scalars(select(TransactionSignature)).all()
    assert (payer.booked_minor, payer.available_minor) == (FUNDS_MINOR - AMOUNT_MINOR,) * 2
    assert received.booked_minor == AMOUNT_MINOR
    assert count == 1
    # The bound device signed the confirmation (payee, amount, currency): kept with the transfer.
    assert [(t.reference, t.device_id, t.elements["amount_minor"]) for t in signed] == [
        (transfer_id, bound.id, str(AMOUNT_MINOR))
    ]

    # 4. Sign in once more on this browser: its key signs the nonce, so no second factor is asked.
    sign_out(page)
    submit_password(page)
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="总资产")).to_be_visible()
    expect(page.locator(".hero")).to_contain_text("¥14,000.00")
    shot(page, "14-second-sign-in-trusted")
    with db.read_session() as s:
        [live] = sessions.list_sessions(s, customer_id)
        assert (set(live.amr.split(",")), live.loa, live.device_id) == ({"pwd", "hwk"}, 2, bound.id)
