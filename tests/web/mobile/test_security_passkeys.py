"""Security › Passkeys page and the login page's passkey button, through the HTTP client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atrium.db.session import Database
from atrium.identity.passkeys import service as passkeys
from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.identity.passkeys.authenticator import SoftAuthenticator
from tests.identity.passkeys.support import localhost_client, make_customer, sign_in_as

ORIGIN = "http://localhost"


@pytest.fixture()
def web(shared_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    yield from localhost_client(shared_app)


def _register(db: Database, customer_id: str, name: str) -> SoftAuthenticator:
    auth = SoftAuthenticator(origin=ORIGIN)
    with db.unit_of_work() as s:
        options = passkeys.registration_options(s, customer_id=customer_id, rp_id="localhost", origin=ORIGIN)
        passkeys.register(s, customer_id=customer_id, credential=auth.create(options), name=name,
                          rp_id="localhost", origin=ORIGIN)
    return auth


def test_signed_out_goes_to_login(web: TestClient) -> None:
    r = web.get("/security/passkeys", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/security/passkeys"


def test_an_empty_list_offers_to_add_one(web: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "otp"])
    r = web.get("/security/passkeys")
    assert r.status_code == 200
    html = r.text
    assert "<title>通行密钥 · " in html
    assert "还没有通行密钥。" in html
    assert "data-passkey-register-form" in html
    assert 'for="passkey-name"' in html and 'id="passkey-name"' in html
    assert re.search(r'<script src="/static/mobile/js/passkeys\.js\?v=[0-9a-f]{12}" defer>', html)
    assert 'data-msg-cancelled="通行密钥请求已取消或超时。准备好后请重试。"' in html
    assert 'role="status" aria-live="polite"' in html
    assert "先请您再次验证身份" not in html  # a level-2 session needs no further check to add one
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_the_list_shows_name_added_and_last_use(web: TestClient, db: Database) -> None:
    cid = make_customer(db)
    phone = _register(db, cid, "我的手机")
    _register(db, cid, "Laptop <b>")
    with db.unit_of_work() as s:
        options = passkeys.authentication_options(s, rp_id="localhost")
        passkeys.authenticate(s, credential=phone.get(options), rp_id="localhost", origin=ORIGIN)
    sign_in_as(web, db, cid, ["passkey"])
    web.cookies.set(LOCALE_COOKIE, "en")
    html = web.get("/security/passkeys").text
    assert "Your passkeys" in html and "我的手机" in html
    assert "Laptop &lt;b&gt;" in html and "Laptop <b>" not in html
    assert html.count("Added ") == 2
    assert html.count("Last used ") == 1 and html.count("Never used") == 1
    assert f'data-passkey-remove value="{phone.id}"' in html
    assert 'aria-label="Remove passkey 我的手机"' in html


def test_a_one_factor_session_is_told_it_will_be_asked_to_confirm(web: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd"])
    assert "先请您再次验证身份" in web.get("/security/passkeys").text


def test_the_outcome_of_a_ceremony_is_announced(web: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(web, db, cid, ["pwd", "otp"])
    assert "通行密钥已添加" in web.get("/security/passkeys?done=added").text
    assert "通行密钥已删除" in web.get("/security/passkeys?done=removed").text
    other = web.get("/security/passkeys?done=<script>").text
    assert "alert-ok" not in other and "<script>" not in other.split("</head>")[1]


def test_the_login_page_offers_a_passkey(web: TestClient) -> None:
    html = web.get("/login?next=/limits").text
    assert "data-passkey-login" in html and 'data-next="/limits"' in html
    assert "使用通行密钥登录" in html
    assert "/static/mobile/js/passkeys.js" in html
    english = web.get("/login", cookies={LOCALE_COOKIE: "en"}).text
    assert "Sign in with a passkey" in english


def test_the_script_is_served(web: TestClient) -> None:
    r = web.get("/static/mobile/js/passkeys.js")
    assert r.status_code == 200
    assert "AtriumPasskeys" in r.text and "navigator.credentials.create" in r.text
