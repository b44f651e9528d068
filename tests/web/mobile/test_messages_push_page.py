"""/messages/settings: the "notifications on this phone" control (push.js drives it in the browser; see
tests/web/browser/test_push_subscribe_browser.py). Here: what the server draws in each of its three states
(Web Push ready, the bank's push switched off, the recording-only outbox) in both languages, the texts the
script needs, and that the script is linked on this page only."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from atrium.config import get_settings
from atrium.notify import push
from atrium.web.mobile.i18n import catalogue

SETTINGS = "/messages/settings"
# Every text push.js shows, as data-msg-<key> on the section → its catalogue id.
SCRIPT_TEXTS = {
    "checking": "messages.push.checking", "on": "messages.push.state.on", "off": "messages.push.state.off",
    "turn-on": "messages.push.turn_on", "turn-off": "messages.push.turn_off",
    "asking": "messages.push.asking",
    "working": "messages.push.working", "turned-on": "messages.push.turned_on",
    "turned-off": "messages.push.turned_off", "denied": "messages.push.denied",
    "dismissed": "messages.push.dismissed", "unsupported": "messages.push.unsupported",
    "bank-off": "messages.push.bank_off", "demo": "messages.push.demo", "error": "messages.push.error",
    "refused": "messages.push.refused",
    "check-failed": "messages.push.check_failed", "signed-out": "messages.push.signed_out",
    "others": "messages.push.others",
}
PUSH_SCRIPT = re.compile(r'<script src="/static/mobile/js/push\.js\?v=[0-9a-f]+" defer></script>')


@pytest.fixture()
def web_push(monkeypatch):  # type: ignore[no-untyped-def]
    private, public = push.generate_vapid_keys()
    monkeypatch.setattr(get_settings().push, "sender", "webpush")
    monkeypatch.setattr(get_settings().push, "vapid_private_key", private)
    return public


@pytest.fixture()
def push_off(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(get_settings().push, "sender", "off")


class _FirstTag(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.attrs is None:
            self.attrs = {k: v if v is not None else "" for k, v in attrs}  # a bare attribute: ""


def _attrs(tag: str) -> dict[str, str]:
    parser = _FirstTag()
    parser.feed(tag)
    assert parser.attrs is not None
    return parser.attrs


def _control(page: str) -> dict[str, object]:
    """The control's parts as the server drew them."""
    section = re.search(r"<section [^>]*data-push-control[^>]*>(.*?)</section>", page, re.S)
    assert section, "no push control on the page"
    body = section.group(1)
    status = re.search(r'(<div [^>]*data-push-status[^>]*>)(.*?)</div>\s*</div>', body, re.S)
    button = re.search(r"(<button [^>]*data-push-toggle[^>]*>)(.*?)</button>", body, re.S)
    assert status and button
    return {
        "section": _attrs(section.group(0).split(">", 1)[0] + ">"),
        "heading": re.search(r'<h2 [^>]*id="push-head">(.*?)</h2>', body).group(1),  # type: ignore[union-attr]
        "status": _attrs(status.group(1)),
        "status_text": html.unescape(re.sub(r"<[^>]+>", "", status.group(2))).strip(),
        "button": _attrs(button.group(1)),
        "button_text": html.unescape(re.sub(r"<[^>]+>", "", button.group(2))).strip(),
        "noscript": html.unescape(re.search(r"<noscript>(.*?)</noscript>", body, re.S).group(1)),  # type: ignore[union-attr]
    }


def _get(client, lang: str, path: str = SETTINGS) -> str:  # type: ignore[no-untyped-def]
    client.cookies.set("atrium_locale", lang)
    response = client.get(path)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_with_web_push_the_control_waits_for_the_script_with_every_text_in_the_language(
    signed_in, web_push, lang: str
) -> None:  # type: ignore[no-untyped-def]
    t = catalogue(lang)
    page = _get(signed_in, lang)
    control = _control(page)
    section = control["section"]
    assert isinstance(section, dict)
    assert section["data-push-state"] == "ready"
    assert section["aria-labelledby"] == "push-head" and control["heading"] == t["messages.push.heading"]
    for key, msg_id in SCRIPT_TEXTS.items():
        assert section[f"data-msg-{key}"] == t[msg_id], key
    assert "{count}" in section["data-msg-others"]  # push.js fills it in
    # Until the script has looked at this browser: "checking", announced politely, and a button that does
    # nothing yet (a real button, outside the settings form: it never submits the form).
    assert control["status"]["role"] == "status" and control["status"]["aria-live"] == "polite"
    assert control["status_text"] == t["messages.push.checking"]
    button = control["button"]
    assert isinstance(button, dict)
    assert button["type"] == "button" and "disabled" in button and button["aria-describedby"] == "push-status"
    assert control["button_text"] == t["messages.push.turn_on"]
    assert t["messages.push.noscript"] in str(control["noscript"])
    assert page.index("data-push-control") < page.index('<form class="stack" method="post"')
    # The channel list says where notifications go; the key itself is the API's to hand out, not the page's.
    assert t["messages.settings.push.on"] in page
    assert web_push not in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_push_switched_off_by_the_bank_is_explained_and_the_control_disabled(
    signed_in, push_off, lang: str
) -> None:  # type: ignore[no-untyped-def]
    t = catalogue(lang)
    page = _get(signed_in, lang)
    control = _control(page)
    assert control["section"]["data-push-state"] == "bank_off"  # type: ignore[index]
    assert control["status_text"] == t["messages.push.bank_off"]
    assert "alert-warn" in control["status"]["class"]  # type: ignore[index]
    assert "disabled" in control["button"]  # type: ignore[operator]
    assert t["messages.settings.push.on"] not in page
    assert control["heading"] == t["messages.push.heading"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_recording_only_outbox_says_there_is_nothing_to_turn_on(signed_in, lang: str) -> None:  # type: ignore[no-untyped-def]
    # The test settings' default sender: push is "enabled" but records only, with no key to subscribe.
    assert push.sender_choice(get_settings().push, get_settings().env) == "outbox"
    t = catalogue(lang)
    page = _get(signed_in, lang)
    control = _control(page)
    assert control["section"]["data-push-state"] == "demo"  # type: ignore[index]
    assert control["status_text"] == t["messages.push.demo"]
    assert "disabled" in control["button"]  # type: ignore[operator]
    assert t["messages.settings.push.on"] not in page


def test_the_languages_differ_where_they_should(signed_in, web_push) -> None:  # type: ignore[no-untyped-def]
    zh, en = _control(_get(signed_in, "zh")), _control(_get(signed_in, "en"))
    assert zh["heading"] == "本机通知" and en["heading"] == "Notifications on this phone"
    assert zh["button_text"] == "开启本机通知" and en["button_text"] == "Turn on notifications"
    assert "网站设置" in zh["section"]["data-msg-denied"]  # type: ignore[index]
    assert "site settings" in en["section"]["data-msg-denied"]  # type: ignore[index]
    assert "主屏幕" in zh["section"]["data-msg-unsupported"]  # type: ignore[index]
    assert "Home Screen" in en["section"]["data-msg-unsupported"]  # type: ignore[index]


def test_the_script_is_linked_on_the_settings_page_only(signed_in, web_push) -> None:  # type: ignore[no-untyped-def]
    settings = _get(signed_in, "zh")
    assert len(PUSH_SCRIPT.findall(settings)) == 1
    for path in ("/", "/messages", "/settings", "/security/passkeys"):
        page = _get(signed_in, "zh", path)
        assert "js/push.js" not in page, path
        assert "data-push-control" not in page, path
    script = signed_in.get(re.search(r'src="([^"]*push\.js[^"]*)"', settings).group(1))  # type: ignore[union-attr]
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "pushManager.subscribe" in script.text


def test_signed_out_the_settings_page_goes_to_sign_in(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get(SETTINGS, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
