"""Turning on notifications for this phone, in Chromium (push.js on /messages/settings).

What headless Chromium does with a real `pushManager.subscribe()` (tried with Chromium 156): in an
incognito context (every Playwright `new_context`) it refuses at once — AbortError "Registration failed -
permission denied", notifications granted or not; in a persistent profile it tries to register with the
browser vendor's push service (FCM), which a test machine without a route out (this sandbox: 40 s and no
answer) never reaches. A real endpoint is therefore out of reach in tests. So:

- the journey replaces `PushManager.prototype.subscribe/getSubscription` through an init script with a
  stand-in that does what the browser does: it records the options it was given, makes a real P-256 key
  pair and a random 16-byte secret, and answers a subscription whose `toJSON()` is what Chromium's is
  (`endpoint`, `expirationTime`, `keys.p256dh`, `keys.auth`) under an https endpoint; it remembers the
  subscription across reloads, as a browser does. Everything else is real: the app, its service worker,
  the permission (granted on the context), the API, the database;
- one test leaves the real `subscribe()` in place and checks the page's answer to the refusal.

The server sends with Web Push for these tests only (`web_push`: VAPID keys made for the test), so the
push-key API hands the page a real public key. Pages are opened at http://localhost:<port> (a secure
context, as the Push API requires).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from atrium.config import get_settings
from atrium.notify import push
from atrium.notify import service as notify
from tests.web.browser.test_accessibility import _small_targets
from tests.web.browser_support import _WATCH_CSP, PHONE, axe_violations, shoot, sign_in
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser

SUBSCRIPTIONS = "/api/v1/messages/push-subscriptions"
STORE = "atrium.push.subscription"  # where push.js keeps this browser's subscription id
WAIT = 15_000  # ms: the page's answer waits on the service worker and the API, on a shared, busy machine

# The stand-in for the browser's push service (see the module docstring). localStorage["__push.mode"]
# switches it for the state tests: "unsupported" (no Push API), "dismiss" (the permission prompt closed
# without an answer).
_FAKE_PUSH = """(() => {
  const mode = localStorage.getItem("__push.mode") || "";
  if (mode === "unsupported") { delete window.PushManager; return; }
  if (mode === "dismiss") Notification.requestPermission = () => Promise.resolve("default");
  const b64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const calls = JSON.parse(sessionStorage.getItem("__push.calls") || "[]");
  const note = (call) => { calls.push(call); sessionStorage.setItem("__push.calls", JSON.stringify(calls)); };
  const revive = (saved) => saved && {
    endpoint: saved.json.endpoint, expirationTime: null,
    options: {userVisibleOnly: true, applicationServerKey: Uint8Array.from(saved.key).buffer},
    toJSON: () => saved.json,
    unsubscribe: async () => {
      note(["unsubscribe", saved.json.endpoint]);
      localStorage.removeItem("__push.sub");
      return true;
    },
  };
  PushManager.prototype.getSubscription = async function () {
    return revive(JSON.parse(localStorage.getItem("__push.sub") || "null"));
  };
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    note(["subscribe", options.userVisibleOnly, b64url(key)]);
    const pair = await crypto.subtle.generateKey({name: "ECDH", namedCurve: "P-256"}, true, ["deriveBits"]);
    const json = {
      endpoint: "https://push.example.test/wp/" + b64url(crypto.getRandomValues(new Uint8Array(24))),
      expirationTime: null,
      keys: {p256dh: b64url(await crypto.subtle.exportKey("raw", pair.publicKey)),
             auth: b64url(crypto.getRandomValues(new Uint8Array(16)))},
    };
    const saved = {json, key: Array.from(key)};
    localStorage.setItem("__push.sub", JSON.stringify(saved));
    return revive(saved);
  };
})();"""

TEXT = {
    "zh": {
        "off": "未开启：本机不会收到通知，消息仍会进入消息中心。", "on": "已开启：本机会收到通知。",
        "turned_on": "已完成：本机现在会收到通知。", "turned_off": "已完成：本机不再收到通知。",
        "turn_on": "开启本机通知", "turn_off": "关闭本机通知", "denied": "此浏览器已禁止中庭银行发送通知",
        "dismissed": "您未允许通知。", "unsupported": "此浏览器无法接收中庭银行的通知。",
        "bank_off": "银行暂时关闭了手机通知", "demo": "这是演示服务器", "refused": "此浏览器未能开启通知。",
        "others": "您其他接收通知的浏览器或手机：1 个。",
    },
    "en": {
        "off": "Off: this phone gets no notifications. Messages still arrive in the inbox.",
        "on": "On: this phone gets notifications.",
        "turned_on": "Done: this phone now gets notifications.",
        "turned_off": "Done: this phone no longer gets notifications.",
        "turn_on": "Turn on notifications", "turn_off": "Turn off notifications",
        "denied": "Notifications are blocked for Atrium in this browser",
        "dismissed": "Notifications were not allowed.",
        "unsupported": "This browser cannot receive notifications",
        "bank_off": "The bank has switched off notifications", "demo": "This is a demonstration server",
        "refused": "This browser would not sign up for notifications.",
        "others": "Other browsers or phones of yours that get notifications: 1.",
    },
}


@pytest.fixture()
def web_push(monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """Web Push with a fresh VAPID key pair, for this test only (the live server reads the same settings
    object); the public key, as the push-key API hands it out."""
    private, public = push.generate_vapid_keys()
    monkeypatch.setattr(get_settings().push, "sender", "webpush")
    monkeypatch.setattr(get_settings().push, "vapid_private_key", private)
    return public


@pytest.fixture()
def localhost(live_server) -> str:  # type: ignore[no-untyped-def]
    return live_server.replace("127.0.0.1", "localhost")


@pytest.fixture()
def open_page(browser, localhost, db) -> Iterator:  # type: ignore[no-untyped-def]
    """`open_page(fake=True, grant=True, audit=False)`: a phone-sized page at localhost in a fresh
    context. `fake`: the push service stand-in; `grant`: notifications allowed; `audit`: the CSP is
    bypassed so that axe can be injected (otherwise CSP violations and script errors fail the test)."""
    opened: list[tuple] = []

    def open_(*, fake: bool = True, grant: bool = True, audit: bool = False):  # type: ignore[no-untyped-def]
        # Chinese, like `sign_in`'s labels; `_signed_in(..., "en")` then switches the pages to English.
        context = browser.new_context(
            viewport=PHONE, locale="zh-CN", base_url=localhost,
            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}, bypass_csp=audit,
        )
        context.set_default_timeout(15_000)
        context.add_init_script(_WATCH_CSP)
        if fake:
            context.add_init_script(_FAKE_PUSH)
        if grant:
            context.grant_permissions(["notifications"], origin=localhost)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.append((context, pg, errors, audit))
        return pg

    yield open_
    for context, pg, errors, audit in opened:
        violations = [] if audit or pg.is_closed() else pg.evaluate("window.__cspViolations || []")
        context.close()
        assert not errors, f"JavaScript errors: {errors}"
        assert not violations, f"CSP violations: {violations}"


def _signed_in(pg, db, username: str, lang: str = "zh"):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username=username, locale=lang)
    sign_in(pg, who.username, who.password)
    if lang == "en":
        pg.context.add_cookies([{"name": "atrium_locale", "value": "en", "url": pg.url}])
    return who


def _status(pg):  # type: ignore[no-untyped-def]
    return pg.locator("[data-push-control] [role=status]")


def _toggle(pg):  # type: ignore[no-untyped-def]
    return pg.locator("[data-push-toggle]")


def _settings(pg, expected: str) -> None:  # type: ignore[no-untyped-def]
    pg.goto("/messages/settings")
    expect(_status(pg)).to_contain_text(expected, timeout=WAIT)


def _press(pg) -> None:  # type: ignore[no-untyped-def]
    """Activate the button from the keyboard, as a keyboard-only person does, and keep the focus on it."""
    _toggle(pg).focus()
    pg.keyboard.press("Enter")


def _api_list(pg) -> list[dict]:  # type: ignore[no-untyped-def]
    """The customer's subscriptions through the API, with the browser's own session cookie."""
    response = pg.request.get(SUBSCRIPTIONS)
    assert response.ok, response.status
    return response.json()


def _fake_calls(pg) -> list[list]:  # type: ignore[no-untyped-def]
    return pg.evaluate("JSON.parse(sessionStorage.getItem('__push.calls') || '[]')")


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot once the button's colour change (a CSS transition) has finished."""
    pg.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
    shoot(pg, name)


def _b64url_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_turning_notifications_on_and_off_for_this_phone(open_page, db, web_push) -> None:  # type: ignore[no-untyped-def]
    pg = open_page()
    who = _signed_in(pg, db, "pusher")
    assert pg.evaluate("window.isSecureContext") is True
    text = TEXT["zh"]
    _settings(pg, text["off"])
    expect(_toggle(pg)).to_have_text(text["turn_on"])
    expect(_toggle(pg)).to_be_enabled()
    assert _api_list(pg) == []
    _shot(pg, "push-01-off-zh")

    posted: list = []
    pg.on("request", lambda r: posted.append(r) if r.method == "POST" and r.url.endswith(SUBSCRIPTIONS)
          else None)
    _press(pg)
    expect(_status(pg)).to_have_text(text["turned_on"], timeout=WAIT)
    expect(_toggle(pg)).to_have_text(text["turn_off"])
    expect(_toggle(pg)).to_be_focused()
    expect(_toggle(pg)).to_have_attribute("aria-disabled", "false")
    expect(_toggle(pg)).to_have_class(re.compile(r"\bbtn-secondary\b"))  # the quieter action now
    _shot(pg, "push-02-on-zh")

    # The browser was asked with the bank's key (base64url → bytes) for notifications it shows.
    [subscribe] = [c for c in _fake_calls(pg) if c[0] == "subscribe"]
    assert subscribe == ["subscribe", True, web_push]
    assert len(_b64url_bytes(subscribe[2])) == 65
    # What was posted is the browser's subscription as it is, with the page's CSRF header and session.
    [request] = posted
    browser_json = pg.evaluate("JSON.parse(localStorage.getItem('__push.sub')).json")
    assert request.post_data_json == browser_json
    assert request.headers.get("x-csrf-token")
    # One subscription for the customer, with the endpoint and keys the browser produced.
    [listed] = _api_list(pg)
    assert pg.evaluate(f"localStorage.getItem('{STORE}')") == listed["id"]
    with db.read_session() as s:
        [row] = notify.push_subscriptions(s, who.customer_id)
        assert (row.id, row.endpoint) == (listed["id"], browser_json["endpoint"])
        assert (row.p256dh, row.auth) == (browser_json["keys"]["p256dh"], browser_json["keys"]["auth"])

    # Another visit: this browser is recognised as on (its subscription is in the customer's list).
    _settings(pg, text["on"])
    expect(_toggle(pg)).to_have_text(text["turn_off"])
    expect(pg.locator("[data-push-others]")).to_be_hidden()

    _press(pg)
    expect(_status(pg)).to_have_text(text["turned_off"], timeout=WAIT)
    expect(_toggle(pg)).to_have_text(text["turn_on"])
    expect(_toggle(pg)).to_be_focused()
    _shot(pg, "push-03-turned-off-zh")
    assert _api_list(pg) == []
    assert ["unsubscribe", browser_json["endpoint"]] in _fake_calls(pg)
    assert pg.evaluate("localStorage.getItem('__push.sub')") is None
    assert pg.evaluate(f"localStorage.getItem('{STORE}')") is None
    with db.read_session() as s:
        assert notify.push_subscriptions(s, who.customer_id) == []
    _settings(pg, text["off"])


def test_another_customer_on_the_same_browser_sees_it_off_and_takes_it_over(open_page, db, web_push) -> None:  # type: ignore[no-untyped-def]
    pg = open_page()
    first = _signed_in(pg, db, "first")
    _settings(pg, TEXT["zh"]["off"])
    _press(pg)
    expect(_status(pg)).to_have_text(TEXT["zh"]["turned_on"], timeout=WAIT)
    pg.context.clear_cookies()  # signed out; the browser keeps its subscription and push.js its note

    second = _signed_in(pg, db, "second")
    _settings(pg, TEXT["zh"]["off"])  # not in the second customer's list: off for them
    _press(pg)
    expect(_status(pg)).to_have_text(TEXT["zh"]["turned_on"], timeout=WAIT)
    with db.read_session() as s:
        assert notify.push_subscriptions(s, first.customer_id) == []  # the browser moved
        assert len(notify.push_subscriptions(s, second.customer_id)) == 1


def test_other_subscribed_browsers_are_counted(open_page, db, web_push) -> None:  # type: ignore[no-untyped-def]
    pg = open_page()
    who = _signed_in(pg, db, "twophones", "en")
    with db.unit_of_work() as s:
        notify.subscribe_push(
            s, customer_id=who.customer_id, endpoint="https://push.example.test/wp/other-phone",
            p256dh=base64.urlsafe_b64encode(b"\x04" + bytes(64)).decode().rstrip("="),
            auth=base64.urlsafe_b64encode(bytes(16)).decode().rstrip("="),
        )
    _settings(pg, TEXT["en"]["off"])
    expect(pg.locator("[data-push-others]")).to_have_text(TEXT["en"]["others"])
    _press(pg)
    expect(_status(pg)).to_have_text(TEXT["en"]["turned_on"], timeout=WAIT)
    expect(pg.locator("[data-push-others]")).to_have_text(TEXT["en"]["others"])
    assert len(_api_list(pg)) == 2


def test_when_the_real_browser_refuses_to_subscribe_the_page_says_so(open_page, db, web_push) -> None:  # type: ignore[no-untyped-def]
    # No stand-in: headless Chromium's own push service refuses in an incognito context.
    pg = open_page(fake=False)
    who = _signed_in(pg, db, "refused")
    _settings(pg, TEXT["zh"]["off"])
    _press(pg)
    expect(_status(pg)).to_contain_text(TEXT["zh"]["refused"], timeout=WAIT)
    expect(_toggle(pg)).to_have_text(TEXT["zh"]["turn_on"])
    expect(_toggle(pg)).to_have_attribute("aria-disabled", "false")  # try again is possible
    _shot(pg, "push-04-refused-zh")
    with db.read_session() as s:
        assert notify.push_subscriptions(s, who.customer_id) == []


def _deny(pg, localhost: str) -> None:  # type: ignore[no-untyped-def]
    """Block notifications for the site, as a person does in the browser's site settings."""
    info = pg.context.new_cdp_session(pg).send("Target.getTargetInfo")["targetInfo"]
    browser_cdp = pg.context.browser.new_browser_cdp_session()
    browser_cdp.send("Browser.setPermission", {
        "permission": {"name": "notifications"}, "setting": "denied", "origin": localhost,
        "browserContextId": info["browserContextId"],
    })
    browser_cdp.detach()


def _audit(pg, name: str) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    _shot(pg, name)
    serious = [v for v in axe_violations(pg) if v["impact"] in ("serious", "critical")]
    return serious, _small_targets(pg)


@pytest.mark.database_independent  # axe and page layout: the same on any database
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_state_explains_itself_passes_axe_and_has_44px_targets(
    open_page, db, web_push, localhost, monkeypatch, lang: str
) -> None:  # type: ignore[no-untyped-def]
    text = TEXT[lang]
    pg = open_page(audit=True, grant=False)
    _signed_in(pg, db, f"states{lang}", lang)
    problems: dict[str, tuple] = {}

    pg.context.grant_permissions(["notifications"], origin=localhost)
    _settings(pg, text["off"])
    problems["off"] = _audit(pg, f"push-10-off-{lang}")
    _press(pg)
    expect(_status(pg)).to_have_text(text["turned_on"], timeout=WAIT)
    problems["on"] = _audit(pg, f"push-11-on-{lang}")
    _press(pg)
    expect(_status(pg)).to_have_text(text["turned_off"], timeout=WAIT)

    # The prompt closed without an answer: ask again next time.
    pg.evaluate("localStorage.setItem('__push.mode', 'dismiss')")
    pg.context.clear_permissions()
    _settings(pg, text["off"])
    _press(pg)
    expect(_status(pg)).to_contain_text(text["dismissed"], timeout=WAIT)
    expect(_toggle(pg)).to_have_attribute("aria-disabled", "false")
    problems["dismissed"] = _audit(pg, f"push-12-dismissed-{lang}")

    # Asked and refused (headless Chromium answers "denied" when nothing was granted), then blocked for
    # good: the page says how to allow it again, and the button stays dimmed but keeps the focus.
    pg.evaluate("localStorage.removeItem('__push.mode')")
    _settings(pg, text["off"])
    _press(pg)
    expect(_status(pg)).to_contain_text(text["denied"], timeout=WAIT)
    expect(_toggle(pg)).to_have_attribute("aria-disabled", "true")
    expect(_toggle(pg)).to_be_focused()
    _deny(pg, localhost)
    _settings(pg, text["denied"])
    expect(_toggle(pg)).to_be_disabled()
    problems["denied"] = _audit(pg, f"push-13-denied-{lang}")
    pg.context.grant_permissions(["notifications"], origin=localhost)  # allowed again, from here on

    pg.evaluate("localStorage.setItem('__push.mode', 'unsupported')")
    _settings(pg, text["unsupported"])
    expect(_toggle(pg)).to_be_disabled()
    problems["unsupported"] = _audit(pg, f"push-14-unsupported-{lang}")
    pg.evaluate("localStorage.removeItem('__push.mode')")

    # Switched off by the bank: drawn so by the server; or found so by the script when the bank switched it
    # off after the page was drawn.
    monkeypatch.setattr(get_settings().push, "sender", "off")
    _settings(pg, text["bank_off"])
    expect(_toggle(pg)).to_be_disabled()
    problems["bank_off"] = _audit(pg, f"push-15-bank-off-{lang}")
    monkeypatch.setattr(get_settings().push, "sender", "webpush")
    pg.route("**/api/v1/messages/push-key", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps({"enabled": False, "public_key": None})))
    _settings(pg, text["bank_off"])
    expect(_toggle(pg)).to_be_disabled()
    pg.unroute("**/api/v1/messages/push-key")

    monkeypatch.setattr(get_settings().push, "sender", "outbox")  # records only: nothing to subscribe to
    _settings(pg, text["demo"])
    expect(_toggle(pg)).to_be_disabled()
    problems["demo"] = _audit(pg, f"push-16-demo-{lang}")

    failing = {state: found for state, found in problems.items() if found != ([], [])}
    assert not failing, json.dumps(failing, ensure_ascii=False, indent=1)
