"""/register: phone → code → details → done, signed in with a CNY current account; and in Chromium."""

from __future__ import annotations

import re
import tempfile

import pytest

from atrium.accounts import service as accounts
from atrium.db.session import Database
from atrium.identity import identities, service
from atrium.identity.sessions import digest
from atrium.web.deps import SESSION_COOKIE
from tests.identity.test_registration import ID_NUMBER, PASSWORD, PHONE, sent_code
from tests.web.mobile.factories import csrf_from

DETAILS = {
    "legal_name": "王美", "id_number": ID_NUMBER, "email": "mei@example.com",
    "address": "上海市浦东新区世纪大道100号", "username": "meiwang", "display_name": "美美",
    "password": PASSWORD,
}


def _ticket(html: str) -> str:
    match = re.search(r'name="ticket" value="([^"]+)"', html)
    assert match, "the details step carries no ticket"
    return match.group(1)


def to_details(client, db: Database, phone: str = "138 1234 5678") -> str:  # type: ignore[no-untyped-def]
    """Steps 1 and 2; returns the details step's HTML."""
    start = client.get("/register")
    assert start.status_code == 200
    r = client.post("/register/phone", data={"phone": phone, "csrf_token": csrf_from(start.text)})
    assert r.status_code == 200, r.text
    form = {"phone": PHONE, "code": sent_code(db), "csrf_token": csrf_from(r.text)}
    r = client.post("/register/code", data=form)
    assert r.status_code == 200, r.text
    return r.text


def submit(client, html: str, **fields: str):  # type: ignore[no-untyped-def]
    """Step 3 with DETAILS (and `fields` over them), the ticket and CSRF token of the page `html`."""
    data = {**DETAILS, **fields, "ticket": _ticket(html), "csrf_token": csrf_from(html)}
    return client.post("/register/details", data=data, follow_redirects=False)


def test_the_first_step_asks_for_the_phone(client, db):
    r = client.get("/register")
    assert r.status_code == 200
    assert 'action="/register/phone"' in r.text and 'type="tel"' in r.text
    assert "第 1 步，共 3 步" in r.text and '<label for="phone">手机号</label>' in r.text


def test_a_registered_number_gets_the_same_code_step(client, db):
    with db.unit_of_work() as s:
        service.create_customer(s, username="mei", password="pw", display_name="Mei", phone="+8613900000001")
    token = csrf_from(client.get("/register").text)
    known = client.post("/register/phone", data={"phone": "13900000001", "csrf_token": token})
    new = client.post("/register/phone", data={"phone": "13812345678", "csrf_token": token})
    assert known.status_code == new.status_code == 200
    strip = re.compile(r"\d{3}\*{4}\d{4}|\+86\d{11}")  # only the phone may differ
    assert strip.sub("", known.text) == strip.sub("", new.text)
    assert "139****0001" in known.text


def test_a_bad_phone_stays_on_step_one(client, db):
    token = csrf_from(client.get("/register").text)
    r = client.post("/register/phone", data={"phone": "010-12345678", "csrf_token": token})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and "请输入中国大陆手机号" in r.text


def test_asking_again_too_soon_says_how_long_to_wait(client, db):
    token = csrf_from(client.get("/register").text)
    client.post("/register/phone", data={"phone": PHONE, "csrf_token": token})
    r = client.post("/register/phone", data={"phone": PHONE, "resend": "1", "csrf_token": token})
    assert r.status_code == 429
    assert "获取验证码过于频繁" in r.text and 'action="/register/code"' in r.text


def test_a_wrong_code_is_refused_on_step_two(client, db):
    token = csrf_from(client.get("/register").text)
    client.post("/register/phone", data={"phone": PHONE, "csrf_token": token})
    wrong = f"{(int(sent_code(db)) + 1) % 1_000_000:06d}"
    r = client.post("/register/code", data={"phone": PHONE, "code": wrong, "csrf_token": token})
    assert r.status_code == 401
    assert "验证码错误或已过期" in r.text and 'id="err-code"' in r.text


def test_the_whole_registration_signs_in_and_opens_an_account(client, db):
    html = to_details(client, db)
    assert "第 3 步，共 3 步" in html
    r = submit(client, html)
    assert r.status_code == 303 and r.headers["location"] == "/register/done"
    token = client.cookies[SESSION_COOKIE]
    with db.read_session() as s:
        customer = service.find_customer_by_phone(s, PHONE)
        assert customer is not None and customer.display_name == "美美"
        [account] = accounts.list_for_customer(s, customer.id)
        assert (account.product, account.currency, account.status) == ("current", "CNY", "open")
        principal = service.authenticate(s, token)
        assert principal.loa == 2 and set(principal.amr) == {"sms", "pwd"}
        assert principal.identity_id == identities.list_identities(s, customer.id)[0].id
        assert s.get(type(customer), customer.id) is not None and digest(token) == principal.token_hash
    done = client.get("/register/done")
    assert done.status_code == 200 and account.masked_number in done.text and "欢迎加入中庭银行" in done.text
    home = client.get("/")
    assert home.status_code == 200 and account.masked_number in home.text
    assert client.get("/register", follow_redirects=False).headers["location"] == "/"


def test_bad_details_are_all_shown_with_the_values_kept(client, db):
    html = to_details(client, db)
    bad = {**DETAILS, "id_number": "110105194912310021", "email": "mei@", "password": "short"}
    r = submit(client, html, **bad)
    assert r.status_code == 422
    for message in ("身份证号校验未通过", "请输入有效的邮箱地址", "密码至少需要 10 个字符"):
        assert message in r.text
    assert 'href="#id_number"' in r.text and 'value="110105194912310021"' in r.text
    assert 'value="short"' not in r.text  # a password is never sent back
    # The ticket still works: fix the fields and finish.
    assert submit(client, r.text).status_code == 303


def test_a_taken_username_is_a_field_error(client, db):
    with db.unit_of_work() as s:
        service.create_customer(s, username="MeiWang", password="pw", display_name="Mei")
    html = to_details(client, db)
    r = submit(client, html)
    assert r.status_code == 409 and "该用户名已被使用" in r.text and 'id="err-username"' in r.text


def test_a_forged_ticket_goes_back_to_the_start(client, db):
    token = csrf_from(client.get("/register").text)
    r = client.post("/register/details", data={**DETAILS, "ticket": "forged", "csrf_token": token})
    assert r.status_code == 401 and 'action="/register/phone"' in r.text and "已过期" in r.text


def test_password_feedback_lists_what_is_missing(client, db):
    html = to_details(client, db)
    form = {"ticket": _ticket(html), "username": "meiwang", "id_number": ID_NUMBER}
    form["csrf_token"] = csrf_from(html)
    weak = client.post("/register/password-check", data={**form, "password": "meiwang"},
                       headers={"HX-Request": "true"})
    assert weak.status_code == 200 and 'id="password-rules"' in weak.text
    assert "至少需要 10 个字符" in weak.text and "不能包含用户名" in weak.text
    personal = client.post("/register/password-check", data={**form, "password": "plum orbit 13812345678"})
    assert "个人信息" in personal.text
    good = client.post("/register/password-check", data={**form, "password": PASSWORD})
    assert "密码符合要求" in good.text


def test_every_step_needs_the_csrf_token(client, db):
    client.get("/register")
    for path in ("/register/phone", "/register/code", "/register/details", "/register/password-check"):
        assert client.post(path, data={"phone": PHONE}).status_code == 403


def test_the_pages_speak_english(client, db):
    r = client.get("/register", headers={"Accept-Language": "en"})
    assert "Step 1 of 3" in r.text and "Mobile number" in r.text


# --- in Chromium ------------------------------------------------------------------------------------------


@pytest.fixture()
def register_server(live_server: str) -> str:
    return live_server


@pytest.mark.browser
def test_registering_in_chromium(browser, register_server, db, tmp_path):
    from pathlib import Path

    from tests.web.browser_support import _WATCH_CSP

    shots = Path(tempfile.gettempdir()) / "shots" / "h7"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=register_server,
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    context.add_init_script(_WATCH_CSP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        pg.goto("/register")
        pg.screenshot(path=str(shots / "1-phone.png"))
        pg.get_by_label("手机号", exact=True).fill("138 1234 5678")
        pg.get_by_role("button", name="获取验证码").click()
        pg.get_by_label("短信验证码", exact=True).wait_for()
        pg.screenshot(path=str(shots / "2-code.png"))
        pg.get_by_label("短信验证码", exact=True).fill(sent_code(db))
        pg.get_by_role("button", name="下一步", exact=True).click()
        pg.get_by_label("身份证号", exact=True).wait_for()
        pg.get_by_label("姓名", exact=True).fill("王美")
        pg.get_by_label("身份证号", exact=True).fill(ID_NUMBER)
        pg.get_by_label("电子邮箱", exact=True).fill("mei@example.com")
        pg.get_by_label("居住地址", exact=True).fill("上海市浦东新区世纪大道100号")
        pg.get_by_label("用户名", exact=True).fill("meiwang")
        pg.get_by_label("登录密码", exact=True).press_sequentially("meiwang1", delay=20)
        pg.locator("#password-rules").get_by_text("密码不能包含用户名").wait_for()  # live policy feedback
        pg.screenshot(path=str(shots / "3-details-feedback.png"), full_page=True)
        pg.get_by_label("登录密码", exact=True).fill(PASSWORD)
        pg.get_by_label("登录密码", exact=True).press("End")
        pg.locator("#password-rules").get_by_text("密码符合要求").wait_for()
        pg.get_by_role("button", name="立即开户").click()
        pg.wait_for_url("**/register/done")
        pg.get_by_role("heading", name="欢迎加入中庭银行").wait_for()
        pg.screenshot(path=str(shots / "4-done.png"))
        pg.get_by_role("link", name="查看我的账户").click()
        pg.wait_for_url(register_server + "/")
        pg.screenshot(path=str(shots / "5-home.png"))
        with db.read_session() as s:
            customer = service.find_customer_by_phone(s, PHONE)
            assert customer is not None
            [account] = accounts.list_for_customer(s, customer.id)
        pg.get_by_text(account.masked_number).first.wait_for()  # signed in, on home, with the new account
        violations = pg.evaluate("window.__cspViolations || []")
    finally:
        context.close()
    assert not errors, errors
    assert not violations, violations
