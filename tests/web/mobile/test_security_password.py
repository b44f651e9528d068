"""Security › Change password: policy feedback inline, step-up before the change, others signed out."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atrium.db.session import Database
from atrium.identity import passwords
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.identity.otp.support import (
    PASSWORD,
    PHONE_OF_MEI,
    frozen_clock,
    last_code,
    make_customer,
    sign_in_as,
)
from tests.web.mobile.factories import csrf_from


@pytest.fixture()
def web(shared_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(shared_app) as c:  # the whole app, as app_with_security() makes it
        yield c


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    yield from frozen_clock()


def _form(token: str, new: str, *, current: str = PASSWORD, confirm: str | None = None) -> dict[str, str]:
    return {"csrf_token": token, "current_password": current, "new_password": new,
            "confirm_password": new if confirm is None else confirm}


def test_the_page_renders_in_both_languages(web: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    html = web.get("/security/password").text
    assert "<title>修改登录密码 · " in html and 'autocomplete="current-password"' in html
    assert 'for="new-password"' in html and 'aria-describedby="new-password-hint"' in html
    web.cookies.set(LOCALE_COOKIE, "en")
    html = web.get("/security/password").text
    assert "<title>Change password · " in html and "must not be one of your last 5 passwords" in html


@pytest.mark.parametrize(
    ("new", "confirm", "expected"),
    [
        ("short1!", None, "密码至少需要 10 个字符。"),
        ("password1234", None, "这是常见或已泄露的密码，很容易被猜中。"),
        ("mei-the-great-2024", None, "密码不能包含用户名。"),
        ("xq13812345678zz", None, "密码不能包含手机号、姓名等个人信息。"),
        ("violet tundra kayak", "violet tundra kayaks", "两次输入的新密码不一致。"),
    ],
)
def test_policy_feedback_is_inline_and_costs_no_code(web, db, new, confirm, expected):  # type: ignore[no-untyped-def]
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    token = csrf_from(web.get("/security/password").text)
    r = web.post("/security/password", data=_form(token, new, confirm=confirm))
    assert r.status_code == 422
    assert expected in r.text and 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert new not in r.text  # passwords are never echoed back into the page
    from atrium.notify import service as notify

    with db.read_session() as s:
        assert notify.outbox(s, phone=PHONE_OF_MEI) == []


def test_change_with_an_sms_step_up(web: TestClient, db: Database, frozen) -> None:  # type: ignore[no-untyped-def]
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    token = csrf_from(web.get("/security/password").text)
    r = web.post("/security/password", data=_form(token, "violet tundra kayak"))
    assert r.status_code == 401  # the step-up page, carrying the form
    challenge = re.search(r'name="challenge" value="([^"]+)"', r.text).group(1)
    carried = {"carry.current_password": PASSWORD, "carry.new_password": "violet tundra kayak",
               "carry.confirm_password": "violet tundra kayak"}
    base = {"csrf_token": token, "challenge": challenge, "return_to": "/security/password", **carried}
    web.post("/step-up/send", data=base)  # the step-up page again, saying the code was sent
    with db.read_session() as s:
        code = last_code(s, PHONE_OF_MEI)
    assert web.post("/step-up/verify", data=base | {"method": "sms", "code": code}).status_code == 200
    r = web.post("/security/password", data=_form(token, "violet tundra kayak") | {"step_up": challenge},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/security/password?done=1"
    assert "密码已修改" in web.get("/security/password?done=1").text
    with db.read_session() as s:
        assert passwords.verify_password(identity.get_customer(s, cid).password_hash, "violet tundra kayak")


def test_a_wrong_current_password_is_said_inline(web: TestClient, db: Database, frozen) -> None:  # type: ignore[no-untyped-def]
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    token = csrf_from(web.get("/security/password").text)
    r = web.post("/security/password", data=_form(token, "violet tundra kayak", current="not it"))
    challenge = re.search(r'name="challenge" value="([^"]+)"', r.text).group(1)
    base = {"csrf_token": token, "challenge": challenge, "return_to": "/security/password"}
    web.post("/step-up/send", data=base)
    with db.read_session() as s:
        code = last_code(s, PHONE_OF_MEI)
    web.post("/step-up/verify", data=base | {"method": "sms", "code": code})
    r = web.post("/security/password", data=_form(token, "violet tundra kayak", current="not it")
                 | {"step_up": challenge})
    assert r.status_code == 422 and "当前密码不正确" in r.text and 'aria-describedby="err-current"' in r.text
    with db.read_session() as s:
        assert identity.get_customer(s, cid).failed_logins == 1
