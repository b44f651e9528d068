"""Security → devices: the list (this device marked, trusted, cooling-off, last seen), renaming, and
removing with a step-up confirmed by an SMS code."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.identity.devices import service as devices
from atrium.identity.otp import service as otp
from tests.identity.devices.keys import SoftDevice
from tests.identity.otp.support import last_code, wrong
from tests.web.mobile.factories import csrf_from

PHONE = "+8613812345678"
CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Safari/604.1"
)


@dataclass
class Bound:
    customer_id: str
    this_device: str
    other_device: str


def _bind(db: Database, customer_id: str, user_agent: str, *, trusted: bool = True) -> str:
    with db.unit_of_work() as s:
        device = devices.register_device(s, customer_id=customer_id, public_key=SoftDevice().public_key,
                                         name="", user_agent=user_agent)
        if trusted:
            devices.mark_trusted(s, device.id)
        return device.id


def _sign_in(client: TestClient, db: Database, customer_id: str, device_id: str | None) -> None:
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=["pwd", "hwk"], device_id=device_id)
    client.cookies.set("atrium_session", token)


@pytest.fixture()
def bound(client: TestClient, db: Database) -> Bound:
    with db.unit_of_work() as s:
        customer_id = identity.create_customer(s, username="mei", password="correct horse battery",
                                               display_name="王美", phone=PHONE).id
    this_device = _bind(db, customer_id, CHROME_ANDROID)
    other = _bind(db, customer_id, SAFARI_IPHONE, trusted=False)
    _sign_in(client, db, customer_id, this_device)
    return Bound(customer_id, this_device, other)


def _article(html: str, device_id: str) -> str:
    match = re.search(rf'<article[^>]*data-device="{device_id}".*?</article>', html, re.S)
    assert match, f"no article for {device_id}"
    return match.group(0)


def _live(db: Database, customer_id: str) -> set[str]:
    with db.read_session() as s:
        return {d.id for d in devices.list_devices(s, customer_id)}


def test_the_page_lists_devices_and_marks_this_one(client, bound: Bound) -> None:
    r = client.get("/security/devices")
    assert r.status_code == 200, r.text
    assert "<h1>登录设备</h1>" in r.text
    mine, other = _article(r.text, bound.this_device), _article(r.text, bound.other_device)
    assert "Chrome · Android" in mine and "data-this-device" in mine and "受信任" in mine
    assert "Safari · iPhone" in other and "data-this-device" not in other and "未验证" in other
    assert "冷静期" in mine and "至 " in mine  # bound just now: cooling off for 24 h
    assert 'src="/static/mobile/js/device.js?v=' in r.text
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]


def test_the_page_speaks_english(client, bound: Bound) -> None:
    client.cookies.set("atrium_locale", "en")
    html = client.get("/security/devices").text
    assert "<h1>Devices</h1>" in html and "This device" in html and "Not verified" in html


def test_another_customers_device_is_not_found(client, db, bound: Bound) -> None:
    with db.unit_of_work() as s:
        stranger = identity.create_customer(s, username="lei", password="pw pw pw pw", display_name="李雷").id
    theirs = _bind(db, stranger, CHROME_ANDROID)
    token = csrf_from(client.get("/security/devices").text)
    assert theirs not in client.get("/security/devices").text
    for action, data in (("rename", {"name": "mine"}), ("remove", {})):
        r = client.post(f"/security/devices/{theirs}/{action}", data=data | {"csrf_token": token})
        assert r.status_code == 404, (action, r.text)
        assert "找不到该设备" in r.text
    assert _live(db, stranger) == {theirs}


def test_rename_a_device(client, db, bound: Bound) -> None:
    token = csrf_from(client.get("/security/devices").text)
    r = client.post(f"/security/devices/{bound.other_device}/rename",
                    data={"name": "  妈妈的 iPhone ", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/security/devices?done=renamed"
    html = client.get(r.headers["location"]).text
    assert "设备名称已保存" in html and "妈妈的 iPhone" in _article(html, bound.other_device)
    bad = client.post(f"/security/devices/{bound.other_device}/rename",
                      data={"name": "   ", "csrf_token": token})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "请输入 1–80 个字的名称" in bad.text


def test_changes_need_the_csrf_token(client, db, bound: Bound) -> None:
    r = client.post(f"/security/devices/{bound.other_device}/rename", data={"name": "x"})
    assert r.status_code == 403
    r = client.post(f"/security/devices/{bound.other_device}/remove", data={"csrf_token": "f" * 64})
    assert r.status_code == 403
    assert _live(db, bound.customer_id) == {bound.this_device, bound.other_device}


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_removing_a_device_needs_a_step_up_by_sms(client, db, bound: Bound) -> None:
    token = csrf_from(client.get("/security/devices").text)
    url = f"/security/devices/{bound.other_device}/remove"
    first = client.post(url, data={"csrf_token": token})
    assert first.status_code == 200
    panel = _article(first.text, bound.other_device)
    assert "移除「Safari · iPhone」" in panel and "发送验证码至预留手机" in panel
    challenge = _hidden(panel, "step_up")
    assert _live(db, bound.customer_id) == {bound.this_device, bound.other_device}

    sent = client.post(url + "/code", data={"csrf_token": token, "step_up": challenge})
    assert sent.status_code == 200 and "验证码已发送" in sent.text
    with db.read_session() as s:
        code = last_code(s, PHONE)
        from atrium.notify import service as notify

        assert "移除设备「Safari · iPhone」" in notify.outbox(s, phone=PHONE, limit=1)[0].body

    missing = client.post(url, data={"csrf_token": token, "step_up": challenge, "method": "sms", "code": ""})
    assert missing.status_code == 422 and "请输入 6 位验证码" in missing.text
    refused = client.post(url, data={"csrf_token": token, "step_up": challenge, "method": "sms",
                                     "code": wrong(code)})
    assert refused.status_code == 401 and "验证码错误或已失效" in refused.text
    assert _hidden(_article(refused.text, bound.other_device), "step_up") == challenge
    assert _live(db, bound.customer_id) == {bound.this_device, bound.other_device}

    done = client.post(url, data={"csrf_token": token, "step_up": challenge, "method": "sms", "code": code},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/security/devices?done=removed"
    assert _live(db, bound.customer_id) == {bound.this_device}
    assert "设备已移除" in client.get(done.headers["location"]).text

    # The grant was for that device, once: it removes nothing else.
    again = client.post(f"/security/devices/{bound.this_device}/remove",
                        data={"csrf_token": token, "step_up": challenge, "method": "sms", "code": code})
    assert again.status_code in (401, 409)
    assert _live(db, bound.customer_id) == {bound.this_device}


def test_a_wrong_sms_code_still_counts_after_the_rollback(client, db, bound: Bound) -> None:
    token = csrf_from(client.get("/security/devices").text)
    url = f"/security/devices/{bound.other_device}/remove"
    challenge = _hidden(client.post(url, data={"csrf_token": token}).text, "step_up")
    client.post(url + "/code", data={"csrf_token": token, "step_up": challenge})
    with db.read_session() as s:
        code = last_code(s, PHONE)
    for _ in range(otp.MAX_ATTEMPTS):
        client.post(url, data={"csrf_token": token, "step_up": challenge, "method": "sms",
                               "code": wrong(code)})
    dead = client.post(url, data={"csrf_token": token, "step_up": challenge, "method": "sms", "code": code})
    assert dead.status_code == 401  # five wrong tries killed the code: the right one comes too late
    assert _live(db, bound.customer_id) == {bound.this_device, bound.other_device}


def test_without_a_second_factor_removal_is_refused_with_advice(client, db) -> None:
    with db.unit_of_work() as s:
        customer_id = identity.create_customer(s, username="zhao", password="pw pw pw pw",
                                               display_name="赵").id
    device_id = _bind(db, customer_id, CHROME_ANDROID)
    _sign_in(client, db, customer_id, device_id)
    token = csrf_from(client.get("/security/devices").text)
    r = client.post(f"/security/devices/{device_id}/remove", data={"csrf_token": token})
    assert r.status_code == 403 and "尚未设置" in r.text
    assert _live(db, customer_id) == {device_id}


def test_the_page_needs_a_session(client) -> None:
    r = client.get("/security/devices", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
