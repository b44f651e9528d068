"""Security › Authenticator app page: set up with a QR code and a first code, status, removal via step-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from atrium.db.session import Database
from atrium.identity.otp import totp
from atrium.kit import clock
from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.identity.otp.support import frozen_clock, make_customer, sign_in_as
from tests.web.mobile.factories import csrf_from


@pytest.fixture()
def web(shared_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(shared_app) as c:  # the whole app, as app_with_security() makes it
        yield c


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    yield from frozen_clock()


def _secret(html: str) -> str:
    match = re.search(r"<code>([A-Z2-7 ]+)</code>", html)
    assert match, "no secret on the page"
    return match.group(1).replace(" ", "")


def _enrol(web: TestClient) -> pyotp.TOTP:
    token = csrf_from(web.get("/security/totp").text)
    r = web.post("/security/totp/enrolment", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/security/totp"
    return pyotp.TOTP(_secret(web.get("/security/totp").text))


def test_signed_out_goes_to_login(web: TestClient) -> None:
    r = web.get("/security/totp", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/security/totp"


def test_set_up_with_the_qr_code_and_a_first_code(web: TestClient, db: Database, frozen) -> None:  # type: ignore[no-untyped-def]
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    html = web.get("/security/totp").text
    assert "<title>身份验证器 · " in html and "未启用" in html and 'action="/security/totp/enrolment"' in html
    app = _enrol(web)
    page = web.get("/security/totp").text
    assert '<figure class="qr-figure" role="img" aria-label="用于添加到身份验证器的二维码"><svg' in page
    assert 'for="totp-code"' in page and 'autocomplete="one-time-code"' in page
    token = csrf_from(page)
    wrong = "000000" if app.at(clock.now()) != "000000" else "111111"
    r = web.post("/security/totp/confirm", data={"csrf_token": token, "code": wrong})
    assert r.status_code == 422
    assert 'aria-invalid="true" aria-describedby="err-totp-code"' in r.text and "验证码不正确" in r.text
    r = web.post("/security/totp/confirm", data={"csrf_token": token, "code": app.at(clock.now())},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/security/totp?done=on"
    done = web.get("/security/totp?done=on").text
    assert "身份验证器已启用。" in done and "已启用" in done and 'action="/security/totp/remove"' in done
    with db.read_session() as s:
        assert totp.is_enrolled(s, cid)


def test_removal_asks_for_a_second_factor_first(web: TestClient, db: Database, frozen) -> None:  # type: ignore[no-untyped-def]
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    app = _enrol(web)
    token = csrf_from(web.get("/security/totp").text)
    web.post("/security/totp/confirm", data={"csrf_token": token, "code": app.at(clock.now())})
    frozen.set(frozen.now() + timedelta(seconds=30))

    token = csrf_from(web.get("/security/totp").text)
    r = web.post("/security/totp/remove", data={"csrf_token": token})
    assert r.status_code == 401  # the step-up page, not a removal
    challenge = re.search(r'name="challenge" value="([^"]+)"', r.text).group(1)
    r = web.post("/step-up/verify", data={"csrf_token": token, "challenge": challenge, "method": "otp",
                                           "code": app.at(clock.now()), "return_to": "/security/totp"})
    assert r.status_code == 200, r.text
    r = web.post("/security/totp/remove", data={"csrf_token": token, "step_up": challenge},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/security/totp?done=removed"
    with db.read_session() as s:
        assert not totp.is_enrolled(s, cid)


def test_the_page_in_english(web: TestClient, db: Database) -> None:
    cid = make_customer(db, locale="en")
    sign_in_as(web, db, cid, ["pwd", "sms"])
    web.cookies.set(LOCALE_COOKIE, "en")
    html = web.get("/security/totp").text
    assert "<title>Authenticator app · " in html and "Set up an authenticator app" in html and ">Off<" in html


def test_writes_need_csrf(web: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "sms"])
    web.get("/security/totp")
    assert web.post("/security/totp/enrolment", data={}).status_code == 403
    assert web.post("/security/totp/remove", data={"csrf_token": "f" * 64}).status_code == 403
