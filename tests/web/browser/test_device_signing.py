"""device.js in real Chromium: WebCrypto makes a non-extractable P-256 key kept in IndexedDB; the server
binds it, the browser remembers the device id, proves itself at sign-in and signs a transfer's elements;
the server verifies what the browser signed — and refuses it once anything is changed.

A module-scoped server runs the whole app plus three test-only routes (a page with a sign-in form and a
confirmation form, and the two endpoints those forms post to)."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Form
from fastapi.responses import HTMLResponse, JSONResponse
from playwright.sync_api import expect

from atrium.app import create_app
from atrium.db.runtime import get_db
from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.identity.devices import service as devices
from atrium.identity.devices import signing
from atrium.web.deps import SESSION_COOKIE
from atrium.web.mobile.templating import CONTENT_SECURITY_POLICY, static_url
from tests.identity.otp.support import last_code
from tests.web.browser_support import _WATCH_CSP, PHONE, _free_port, _require_chromium

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/h4")  # noqa: S108 - where the review looks for screenshots
PASSWORD = "correct horse battery"
PAGE_PHONE = "+8613600003333"

_test_only = APIRouter(prefix="/test-only")
FormText = Annotated[str, Form()]


@_test_only.get("/device")
def _device_page(customer_id: str) -> HTMLResponse:
    cid = html.escape(customer_id)
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>device test</title>
<script src="{static_url('js/device.js')}" defer></script></head><body><main>
<form id="prove" method="post" action="/test-only/prove" data-device-login>
  <input type="hidden" name="customer_id" value="{cid}">
  <input type="hidden" name="device_nonce" value="{html.escape(devices.login_nonce())}">
  <button type="submit">prove</button></form>
<form id="confirm" method="post" action="/test-only/verify"
      data-sign-elements="payee amount_minor currency payee_name=name">
  <input type="hidden" name="customer_id" value="{cid}">
  <label>payee <input name="payee" value="6222020200112233445"></label>
  <label>amount <input name="amount_minor" value="600000"></label>
  <input type="hidden" name="currency" value="CNY">
  <label>name <input name="name" value="王美 &quot;Mei&quot;"></label>
  <button type="submit">confirm</button></form></main></body></html>"""
    return HTMLResponse(body, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


@_test_only.post("/prove")
def _prove(
    customer_id: FormText, device_nonce: FormText, device_id: FormText = "", device_signature: FormText = "",
    device_public_key: FormText = "",
) -> JSONResponse:
    proved = get_db().run(lambda s: devices.prove(s, customer_id=customer_id, device_id=device_id,
                                                  nonce=device_nonce, signature=device_signature))
    return JSONResponse({"proved": proved.id if proved else None, "public_key": device_public_key})


@_test_only.post("/verify")
def _verify(
    customer_id: FormText, payee: FormText, amount_minor: FormText, currency: FormText, name: FormText,
    sig_device_id: FormText, sig_time: FormText, sig_nonce: FormText, sig_signature: FormText,
) -> JSONResponse:
    # What a payment flow does: the elements come from the transaction, time and nonce from the device.
    elements = {"payee": payee, "amount_minor": amount_minor, "currency": currency, "payee_name": name,
                "time": sig_time, "nonce": sig_nonce}
    kept = get_db().run(lambda s: devices.verify_transaction(
        s, customer_id=customer_id, device_id=sig_device_id, elements=elements, signature=sig_signature))
    return JSONResponse(kept.model_dump(mode="json"))


def _app() -> FastAPI:
    app = create_app(start_background=False)
    app.include_router(_test_only)
    return app


@pytest.fixture(scope="module")
def server(database) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    _require_chromium()
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))
    thread = threading.Thread(target=srv.run, name="uvicorn-devices", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def phone(browser, server, db):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=server,
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    context.set_default_timeout(10_000)
    context.add_init_script(_WATCH_CSP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    violations = pg.evaluate("window.__cspViolations || []")
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert not violations, f"CSP violations: {violations}"


def _customer(db: Database, username: str, phone_number: str | None = None) -> str:
    with db.unit_of_work() as s:
        return identity.create_customer(s, username=username, password=PASSWORD, display_name="王美",
                                        phone=phone_number).id


def _bind(db: Database, customer_id: str, public_key: str) -> str:
    with db.unit_of_work() as s:
        device = devices.register_device(s, customer_id=customer_id, public_key=public_key, name="",
                                         user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile")
        devices.mark_trusted(s, device.id)
        return device.id


def _ready(pg) -> None:  # type: ignore[no-untyped-def]
    expect(pg.locator("html")).to_have_attribute("data-device-ready", "yes")


def test_the_browser_key_is_made_kept_and_signs_what_the_server_verifies(phone, server, db) -> None:
    customer_id = _customer(db, "signer")
    phone.goto(f"/test-only/device?customer_id={customer_id}")
    _ready(phone)
    first = phone.evaluate("AtriumDevice.ensure()")
    assert first["deviceId"] is None
    signing.load_public_key(first["publicKey"])  # a P-256 SPKI the server accepts
    private = phone.evaluate("""async () => {
        const db = await new Promise((ok, ko) => { const r = indexedDB.open('atrium-device', 1);
                                                   r.onsuccess = () => ok(r.result); r.onerror = ko; });
        const rec = await new Promise(ok => {
            const r = db.transaction('keys').objectStore('keys').get('device');
            r.onsuccess = () => ok(r.result); });
        let exported = true;
        try { await crypto.subtle.exportKey('pkcs8', rec.privateKey); } catch (e) { exported = false; }
        return {extractable: rec.privateKey.extractable, exported, type: rec.privateKey.type,
                curve: rec.privateKey.algorithm.namedCurve};
    }""")
    assert private == {"extractable": False, "exported": False, "type": "private", "curve": "P-256"}

    device_id = _bind(db, customer_id, first["publicKey"])
    phone.evaluate("id => AtriumDevice.remember(id)", device_id)
    phone.reload()
    _ready(phone)
    again = phone.evaluate("AtriumDevice.ensure()")
    assert again == {"publicKey": first["publicKey"], "deviceId": device_id}  # kept across page loads

    # The canonical text is byte-identical to the server's, non-ASCII and escapes included.
    elements = {"payee": "6222020200112233445", "amount_minor": "600000", "currency": "CNY",
                "payee_name": "王美 \"Mei\"\n\\", "time": "2030-05-01T09:00:00.000Z", "nonce": "n" * 22}
    signed = phone.evaluate("e => AtriumDevice.sign(e)", elements)
    assert signed["canonical"].encode("utf-8") == signing.canonical(elements)
    assert signing.verify(first["publicKey"], signing.canonical(elements), signed["signature"])

    # The confirmation form: signed on submit, verified by the server.
    with phone.expect_response("**/test-only/verify") as response_info:
        phone.get_by_role("button", name="confirm").click()
    response = response_info.value
    assert response.status == 200, response.text()
    kept = response.json()
    assert kept["device_id"] == device_id and kept["elements"]["payee_name"] == '王美 "Mei"'
    assert kept["elements"]["amount_minor"] == "600000"


def test_a_signed_form_changed_after_signing_is_refused(phone, server, db) -> None:
    customer_id = _customer(db, "tamper")
    phone.goto(f"/test-only/device?customer_id={customer_id}")
    _ready(phone)
    device_id = _bind(db, customer_id, phone.evaluate("AtriumDevice.ensure()")["publicKey"])
    phone.evaluate("id => AtriumDevice.remember(id)", device_id)
    fields = phone.evaluate("""async () => {
        const form = document.getElementById('confirm');
        await AtriumDevice.signForm(form);
        return Object.fromEntries(new FormData(form).entries());
    }""")
    assert fields["sig_device_id"] == device_id and len(fields["sig_nonce"]) == 22
    shot = SHOTS / "device-test-page.png"
    phone.screenshot(path=str(shot))
    tampered = fields | {"amount_minor": "6000000"}
    r = httpx.post(f"{server}/test-only/verify", data=tampered)
    assert r.status_code == 422 and r.json()["type"].endswith("/signature-invalid")
    assert "does not match" in r.json()["detail"]
    ok = httpx.post(f"{server}/test-only/verify", data=fields)
    assert ok.status_code == 200, ok.text
    replay = httpx.post(f"{server}/test-only/verify", data=fields)
    assert replay.status_code == 422 and "used already" in replay.json()["detail"]


def test_a_sign_in_form_proves_a_remembered_device(phone, server, db) -> None:
    customer_id = _customer(db, "prover")
    phone.goto(f"/test-only/device?customer_id={customer_id}")
    _ready(phone)
    with phone.expect_response("**/test-only/prove") as unbound:
        phone.get_by_role("button", name="prove").click()
    body = unbound.value.json()
    assert body["proved"] is None and body["public_key"]  # not bound yet: it offers its public key
    device_id = _bind(db, customer_id, body["public_key"])
    phone.goto(f"/test-only/device?customer_id={customer_id}")
    _ready(phone)
    phone.evaluate("id => AtriumDevice.remember(id)", device_id)
    with phone.expect_response("**/test-only/prove") as bound:
        phone.get_by_role("button", name="prove").click()
    assert bound.value.json()["proved"] == device_id


def test_the_devices_page_marks_this_browser_renames_and_removes(phone, server, db) -> None:
    customer_id = _customer(db, "pagecheck", phone_number=PAGE_PHONE)
    phone.goto(f"/test-only/device?customer_id={customer_id}")
    _ready(phone)
    device_id = _bind(db, customer_id, phone.evaluate("AtriumDevice.ensure()")["publicKey"])
    other_id = _bind(db, customer_id, phone.evaluate("""async () => {
        const pair = await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign']);
        const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
        return btoa(String.fromCharCode(...spki)); }"""))
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=["pwd", "hwk"], device_id=device_id)
    phone.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": server}])
    phone.goto("/security/devices")
    _ready(phone)
    expect(phone.get_by_role("heading", level=1)).to_have_text("登录设备")
    mine = phone.locator(f'article[data-device="{device_id}"]')
    expect(mine.locator("[data-this-device]")).to_have_text("本机")
    expect(phone.locator("[data-this-device]")).to_have_count(1)
    phone.screenshot(path=str(SHOTS / "devices-page.png"), full_page=True)
    mine.get_by_text("重命名").click()
    mine.get_by_label("设备名称").fill("我的 Pixel")
    mine.get_by_role("button", name="保存").click()
    expect(phone.locator("#devices-notice")).to_contain_text("设备名称已保存")
    expect(mine.locator("h3")).to_contain_text("我的 Pixel")
    phone.screenshot(path=str(SHOTS / "devices-renamed.png"), full_page=True)

    # Removing the other device: the step-up appears inline, an SMS code confirms it.
    other = phone.locator(f'article[data-device="{other_id}"]')
    other.get_by_role("button", name="移除").click()
    expect(other.get_by_role("heading", level=4)).to_contain_text("移除")
    other.get_by_role("button", name="发送验证码至预留手机").click()
    expect(other.get_by_role("status")).to_contain_text("验证码已发送")
    code_input = other.get_by_label("6 位验证码")
    expect(code_input).to_be_focused()  # autofocus: the next thing to do
    phone.screenshot(path=str(SHOTS / "devices-step-up.png"), full_page=True)
    with db.read_session() as s:
        code = last_code(s, PAGE_PHONE)
    code_input.fill(code)
    other.get_by_role("button", name="验证并移除").click()
    expect(phone.locator("#devices-notice")).to_contain_text("设备已移除")
    expect(phone.locator(f'article[data-device="{other_id}"]')).to_have_count(0)
    expect(mine).to_be_visible()
    phone.screenshot(path=str(SHOTS / "devices-removed.png"), full_page=True)


def test_a_trusted_device_signs_in_without_a_second_factor(phone, server, db) -> None:
    """The real /login form (data-device-login): the device signs the server's nonce, so a customer with a
    phone on file is not asked for an SMS code."""
    customer_id = _customer(db, "trusted", phone_number="+8613700002222")
    phone.goto(f"/test-only/device?customer_id={customer_id}")
    _ready(phone)
    device_id = _bind(db, customer_id, phone.evaluate("AtriumDevice.ensure()")["publicKey"])
    phone.evaluate("id => AtriumDevice.remember(id)", device_id)
    phone.goto("/login")
    _ready(phone)
    phone.locator("#username").fill("trusted")
    phone.locator("#password").fill(PASSWORD)
    phone.locator("form[data-device-login] button[type=submit]").click()
    phone.wait_for_url(f"{server}/")
    phone.screenshot(path=str(SHOTS / "signed-in-on-trusted-device.png"))
    with db.read_session() as s:
        [live] = sessions.list_sessions(s, customer_id)
        assert live.device_id == device_id and live.loa == 2 and "hwk" in live.amr
