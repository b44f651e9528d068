"""Passkeys in real Chromium, with a CDP virtual authenticator (CTAP2, internal transport, resident keys,
user verification): add one on Security › Passkeys, sign in with it on /login in a fresh browser context,
and remove it (the removal's step-up is confirmed with the passkey itself).

WebAuthn refuses IP addresses as relying parties, so these pages are opened at http://localhost:<port>."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from atrium.identity.passkeys import service as passkeys
from atrium.web.deps import SESSION_COOKIE
from tests.identity.passkeys.authenticator import SoftAuthenticator
from tests.identity.passkeys.support import app_with_passkeys, open_session
from tests.web.browser_support import _WATCH_CSP, AXE, AXE_RUN, AXE_TAGS, PHONE, _free_port, _require_chromium
from tests.web.browser_support import shoot as save_screenshot
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def localhost_server(database) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The whole app on a free port, addressed as localhost (a relying party WebAuthn accepts)."""
    import uvicorn

    _require_chromium()
    port = _free_port()
    config = uvicorn.Config(app_with_passkeys(), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-passkeys", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://localhost:{port}"
    server.should_exit = True
    thread.join(timeout=10)


class Phone:
    """A browser context at a phone's size with a virtual platform authenticator attached to its page."""

    def __init__(self, browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base_url,
                                           extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(_WATCH_CSP)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.authenticator = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True,
        }})["authenticatorId"]

    def credentials(self) -> list[dict]:  # type: ignore[type-arg]
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})
        return found["credentials"]

    def hold(self, credential: dict) -> None:  # type: ignore[type-arg]
        """Put a credential on this phone's authenticator (the same passkey, e.g. synced)."""
        self.cdp.send("WebAuthn.addCredential",
                      {"authenticatorId": self.authenticator, "credential": credential})

    def close(self) -> None:
        violations = self.page.evaluate("window.__cspViolations || []") if not self.page.is_closed() else []
        self.context.close()
        assert not self.errors, f"JavaScript errors: {self.errors}"
        assert not violations, f"CSP violations: {violations}"


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    save_screenshot(page, f"passkeys-{name}")


def test_add_a_passkey_then_sign_in_with_it_and_remove_it(browser, localhost_server, db):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="passkey-mei", display_name="王美")
    # A session that already passed two factors (password + authenticator code) may add a passkey.
    token = open_session(db, who.customer_id, ["pwd", "otp"])

    first = Phone(browser, localhost_server)
    page = first.page
    first.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": localhost_server}])
    page.goto("/security/passkeys")
    expect(page.get_by_role("heading", name="通行密钥", level=1)).to_be_visible()
    expect(page.get_by_text("还没有通行密钥。")).to_be_visible()
    shoot(page, "01-passkeys-empty")

    # A name is required; the error is announced and the field marked.
    page.get_by_role("button", name="创建通行密钥").click()
    expect(page.locator("#passkey-add-status")).to_contain_text("请为通行密钥命名")
    expect(page.get_by_label("通行密钥名称")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("通行密钥名称").fill("我的手机")
    page.get_by_role("button", name="创建通行密钥").click()
    page.wait_for_url("**/security/passkeys?done=added")
    expect(page.get_by_role("status").filter(has_text="通行密钥已添加")).to_be_visible()
    row = page.locator("li.row", has_text="我的手机")
    expect(row).to_contain_text("从未使用")
    shoot(page, "02-passkey-added")
    [credential] = first.credentials()
    assert credential["isResidentCredential"] is True
    first.close()

    # A fresh browser (no cookies) holding the same passkey signs in on /login with it alone.
    second = Phone(browser, localhost_server)
    second.hold(credential)
    page = second.page
    page.goto("/login?next=/security/passkeys")
    button = page.get_by_role("button", name="使用通行密钥登录")
    expect(button).to_be_visible()
    shoot(page, "03-login-with-passkey")
    button.click()
    page.wait_for_url("**/security/passkeys")
    row = page.locator("li.row", has_text="我的手机")
    expect(row).to_contain_text(re.compile("最近使用"))
    shoot(page, "04-signed-in-with-passkey")
    cookie = next(c for c in second.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["value"] != token

    # Removing it asks for a step-up, which the passkey itself confirms (bound to this credential).
    row.get_by_role("button", name="删除通行密钥 我的手机").click()
    page.wait_for_url("**/security/passkeys?done=removed")
    expect(page.get_by_text("通行密钥已删除，不能再用它登录。")).to_be_visible()
    expect(page.get_by_text("还没有通行密钥。")).to_be_visible()
    shoot(page, "05-passkey-removed")
    second.close()

    # The removed passkey no longer signs anyone in.
    third = Phone(browser, localhost_server)
    third.hold(credential)
    page = third.page
    page.goto("/login")
    page.get_by_role("button", name="使用通行密钥登录").click()
    expect(page.locator("[data-passkey-status]")).to_contain_text("无法验证该通行密钥")
    assert not any(c["name"] == SESSION_COOKIE for c in third.context.cookies())
    shoot(page, "06-removed-passkey-refused")
    third.close()


def test_cancelling_the_passkey_prompt_says_so(browser, localhost_server, db):  # type: ignore[no-untyped-def]
    phone = Phone(browser, localhost_server)
    # No credential on the authenticator: the browser's request ends without one (NotAllowedError).
    page = phone.page
    page.goto("/login")
    page.get_by_role("button", name="使用通行密钥登录").click()
    expect(page.locator("[data-passkey-status]")).to_contain_text("已取消或超时", timeout=20_000)
    shoot(page, "07-login-cancelled")
    phone.close()




@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_passkeys_page_passes_axe_with_44px_targets(browser, localhost_server, db, locale):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username=f"axe-{locale}", display_name="王美")
    with db.unit_of_work() as s:
        options = passkeys.registration_options(s, customer_id=who.customer_id, rp_id="localhost",
                                                origin=localhost_server)
        created = SoftAuthenticator(origin=localhost_server).create(options)
        passkeys.register(s, customer_id=who.customer_id, credential=created, name="Pixel 9 Pro",
                          rp_id="localhost", origin=localhost_server)
    token = open_session(db, who.customer_id, ["pwd"])
    # axe is injected as a script, which the CSP forbids: this context bypasses the CSP.
    context = browser.new_context(viewport=PHONE, base_url=localhost_server, bypass_csp=True)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": localhost_server},
                         {"name": "atrium_locale", "value": locale, "url": localhost_server}])
    page = context.new_page()
    page.goto("/security/passkeys?done=added")
    # Show the status region as it is when a ceremony fails, so it is audited too.
    page.get_by_role("button", name=re.compile("Create passkey|创建通行密钥")).click()
    expect(page.locator("#passkey-add-status")).to_be_visible()
    shoot(page, f"08-passkeys-{locale}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(AXE_RUN, AXE_TAGS)
    violations = [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in result["violations"]]
    small = page.evaluate("""() => [...document.querySelectorAll('main button, main input, main a[href]')]
      .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height < 44)).map(([h]) => h)""")
    context.close()
    assert not violations, violations
    assert not small, small


_INJECT_STEP_UP_FORM = """challenge => {
  // The step-up page's passkey form (pages/step_up.html), as it renders it for this challenge.
  const form = document.createElement('form');
  form.method = 'get';
  form.action = '/security/passkeys';
  form.setAttribute('data-stepup-passkey', challenge);
  form.innerHTML = '<input type="hidden" name="done" value="removed">' +
    '<button class="btn" type="submit">confirm</button><p data-passkey-status role="status"></p>';
  document.querySelector('main').appendChild(form);
}"""

_DELETE = """([id, challenge]) => fetch('/api/v1/auth/passkeys/' + id, {method: 'DELETE',
  headers: challenge ? {'Atrium-Step-Up': challenge} : {}}).then(r => r.status === 204 ? {status: 204}
  : r.json().then(body => ({status: r.status, body})))"""


def test_the_step_up_pages_passkey_form_completes_the_challenge(browser, localhost_server, db):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="stepup-mei", display_name="王美")
    token = open_session(db, who.customer_id, ["pwd", "otp"])
    phone = Phone(browser, localhost_server)
    page = phone.page
    phone.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": localhost_server}])
    page.goto("/security/passkeys")
    added = page.evaluate("AtriumPasskeys.register('Phone')")
    refused = page.evaluate(_DELETE, [added["id"], None])
    assert refused["status"] == 401 and refused["body"]["type"].endswith("/step-up-required")
    challenge = refused["body"]["challenge"]

    page.evaluate(_INJECT_STEP_UP_FORM, challenge)
    page.get_by_role("button", name="confirm").click()
    page.wait_for_url("**/security/passkeys?done=removed")  # submitted once the passkey confirmed it
    assert page.evaluate(_DELETE, [added["id"], challenge]) == {"status": 204}
    phone.close()
