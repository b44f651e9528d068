"""Accessibility of the identity pages in Chromium, in both languages: axe-core (WCAG 2.x A/AA) finds no
serious or critical violation on sign-in (password and SMS tabs, a refused attempt, the second factor),
registration, the security centre and its pages, the profile, the phishing check, the step-up page of a
large transfer and Atrium Life reached by single sign-on. And a customer can sign in with the keyboard
alone, second factor included.

The pages are opened at http://localhost:<port> (the same live server): the passkeys page is a WebAuthn
page, and WebAuthn refuses IP addresses as relying parties."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.auth_support import last_code
from tests.web.browser_support import PHONE, SCREENSHOTS, axe_violations
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
TEXT = {
    "zh": {"username": "用户名", "password": "登录密码", "sign_in": "登录", "send": "^发送验证码至",
           "code": "短信验证码", "verify": "验证并登录", "next": "下一步", "confirm": "确认转账",
           "amount": "转账金额", "account": "收款账号", "stepup_send": "发送验证码至预留手机"},
    "en": {"username": "Username", "password": "Password", "sign_in": "Sign in", "send": "^Send a code to",
           "code": "SMS code", "verify": "Verify and sign in", "next": "Continue",
           "confirm": "Confirm and send", "amount": "Amount", "account": "Account number",
           "stepup_send": "Send a code to my phone"},
}
SIGNED_IN_PAGES = (
    "/security", "/security/devices", "/security/sessions", "/security/history", "/security/passkeys",
    "/security/totp", "/security/password", "/profile", "/phishing-check",
)


def _localhost(live_server: str) -> str:
    return live_server.replace("://127.0.0.1:", "://localhost:")


class Audit:
    """Runs axe on each page it is shown and keeps its findings, with a full-page screenshot per page."""

    def __init__(self, page, locale: str) -> None:  # type: ignore[no-untyped-def]
        self.page, self.locale = page, locale
        self.found: dict[str, list[dict]] = {}

    def __call__(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "root"
        path = SCREENSHOTS / f"identity-a11y-{self.locale}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.found[name] = axe_violations(self.page)

    def blocking(self) -> dict[str, list[dict]]:
        out = {name: [v for v in found if v["impact"] in BLOCKING] for name, found in self.found.items()}
        return {name: found for name, found in out.items() if found}


@pytest.mark.database_independent  # axe and page layout: the same on any database
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_identity_pages_have_no_serious_axe_violations(browser, live_server, db, locale):  # type: ignore[no-untyped-def]
    base = _localhost(live_server)
    words = TEXT[locale]
    who = seed_customer(db, username=f"a11y-id-{locale}", display_name="王美", locale=locale)
    payee = seed_customer(db, username=f"a11y-payee-{locale}", display_name="张伟", balance_minor=0,
                          savings=False)
    # axe is injected as a script, which the app's CSP (rightly) forbids: this context bypasses the CSP.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base, bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "atrium_locale", "value": locale, "url": base}])
    page = context.new_page()
    audit = Audit(page, locale)
    try:
        page.goto("/register")
        audit("/register")
        page.goto("/login?method=sms")
        audit("/login?method=sms")
        page.goto("/login")
        page.get_by_label(words["username"]).fill(who.username)
        page.get_by_label(words["password"], exact=True).fill("not the password")
        page.get_by_role("button", name=words["sign_in"], exact=True).click()
        expect(page.get_by_role("alert").first).to_be_visible()
        audit("/login (refused)")
        page.goto("/login")
        audit("/login")

        page.get_by_label(words["username"]).fill(who.username)
        page.get_by_label(words["password"], exact=True).fill(who.password)
        page.get_by_role("button", name=words["sign_in"], exact=True).click()
        page.locator('form[action="/login/verify/send"]').wait_for()
        audit("second factor")
        page.get_by_role("button", name=re.compile(words["send"])).click()
        audit("second factor (code sent)")
        page.get_by_role("textbox", name=words["code"]).fill(last_code(who.phone))
        page.get_by_role("button", name=words["verify"]).click()
        page.wait_for_url(f"{base}/")

        for path in SIGNED_IN_PAGES:
            page.goto(path)
            audit(path)

        # The step-up page, as a large transfer to another customer brings it up.
        page.goto("/transfer")
        page.locator("#to-new").check()
        page.get_by_role("textbox", name=words["account"]).fill(payee.accounts[0].number)
        page.get_by_role("textbox", name=words["amount"]).fill("6000")
        page.get_by_role("button", name=words["next"], exact=True).click()
        page.wait_for_url("**/transfer/review")
        page.get_by_role("button", name=words["confirm"]).click()
        page.locator('form[action="/step-up/send"]').wait_for()
        audit("step-up")
        page.get_by_role("button", name=words["stepup_send"]).click()
        page.locator('form[action="/step-up/verify"]').first.wait_for()
        audit("step-up (code sent)")

        # Atrium Life, signed in through the bank's OpenID Connect provider (no second password).
        page.goto("/life")
        page.wait_for_url("**/life")
        expect(page.get_by_role("heading", level=1)).to_contain_text("王美")
        audit("/life")
    finally:
        context.close()
        # Every finding, moderate and minor ones included, for the review (git-ignored like the screenshots).
        findings = json.dumps(audit.found, ensure_ascii=False, indent=1)
        (SCREENSHOTS / f"identity-axe-{locale}.json").write_text(findings)
    assert set(audit.found) >= {"/login", "second factor", "step-up", "/life", *SIGNED_IN_PAGES}
    blocking = audit.blocking()
    assert not blocking, json.dumps(blocking, ensure_ascii=False, indent=1)


def _tab_to(page, predicate: str, limit: int = 25) -> list[str]:  # type: ignore[no-untyped-def]
    """Press Tab until `predicate` (JS, on document.activeElement as `el`) holds; the stops on the way."""
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate("""() => { const el = document.activeElement;
            return el.id || el.getAttribute('name') || el.getAttribute('href') || el.textContent.trim(); }""")
        stops.append(stop)
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({predicate}); }}"):
            return stops
    raise AssertionError(f"not reached with the keyboard: {predicate}; stops: {stops}")


def test_signing_in_with_the_keyboard_alone_including_the_second_factor(page, db):
    who = seed_customer(db, username="keyboard-only", display_name="王美")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("data-device-ready", "yes")
    stops = _tab_to(page, "el.id === 'username'")
    page.keyboard.type(who.username)
    stops += _tab_to(page, "el.id === 'password'", limit=1)  # the very next stop
    page.keyboard.type(who.password)
    stops += _tab_to(page, "el.type === 'submit' && el.closest('form[action=\"/login\"]')", limit=3)
    page.keyboard.press("Enter")

    # The second factor: the send button is reachable, then the code field has the focus.
    send = page.get_by_role("button", name=re.compile("^发送验证码至"))
    expect(send).to_be_visible()
    _tab_to(page, "el.matches('form[action=\"/login/verify/send\"] button')")
    page.keyboard.press("Enter")
    code = page.get_by_role("textbox", name="短信验证码")
    expect(code).to_be_focused()  # autofocus: the customer types straight away
    page.keyboard.type(last_code(who.phone))
    page.keyboard.press("Enter")  # implicit submission from the code field
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="总资产")).to_be_visible()
    assert stops.index("username") < stops.index("password"), stops
