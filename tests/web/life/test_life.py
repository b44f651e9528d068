"""Atrium Life: a relying party of the bank's OpenID Connect provider, through the HTTP client."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from atrium.identity import sessions
from atrium.identity.oidc.models import OidcRefreshToken, RpSession
from atrium.kit import clock
from atrium.web.deps import SESSION_COOKIE
from tests.identity.oidc.support import Customer, browser_session, make_customer, query_of
from tests.web.mobile.factories import csrf_from


@pytest.fixture()
def app_client(shared_app):  # type: ignore[no-untyped-def]
    with TestClient(shared_app) as c:
        yield c


@pytest.fixture()
def customer(db) -> Customer:  # type: ignore[no-untyped-def]
    return make_customer(db, username="zhou", display_name="周婷")


def _open_life(app_client: TestClient):  # type: ignore[no-untyped-def]
    r = app_client.get("/life")
    assert r.status_code == 200, r.text
    return r


def test_signed_in_customer_opens_life_without_a_password(app_client, db, customer):
    browser_session(db, app_client, customer)
    r = _open_life(app_client)
    hops = [urlsplit(str(h.url)).path for h in r.history]
    assert hops == ["/life", "/life/login", "/oauth2/authorize", "/life/callback"]
    assert "你好，周婷" in r.text and "水电燃气缴费" in r.text and "交通卡" in r.text
    assert 'href="/transfer"' in r.text  # services lead back to the main app
    assert app_client.cookies.get("atrium_life")
    with db.session() as s:
        row = s.query(RpSession).one()
        assert row.customer_id == customer.id and row.ended_at is None
        assert "eyJ" not in row.access_sealed  # tokens are sealed at rest
    again = app_client.get("/life", follow_redirects=False)
    assert again.status_code == 200  # the Life session carries on by itself


def test_life_in_english(app_client, db, customer):
    browser_session(db, app_client, customer)
    r = app_client.get("/life", headers={"Accept-Language": "en"})
    assert "Hello, 周婷" in r.text and "Utility bills" in r.text and "Phone top-up" in r.text


def test_without_a_bank_session_life_sends_the_customer_to_the_bank_login(app_client, db, customer):
    r = app_client.get("/life")
    assert urlsplit(str(r.url)).path == "/login"
    back = query_of(str(r.url))["next"]
    assert back.startswith("/oauth2/authorize?") and "client_id=atrium-life" in back


def test_sign_out_everywhere_ends_life_at_the_next_page(app_client, db, customer):
    browser_session(db, app_client, customer)
    _open_life(app_client)
    with db.unit_of_work() as s:
        sessions.revoke_all(s, customer.id)
    r = app_client.get("/life", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/life/login")
    with db.session() as s:
        assert s.query(RpSession).one().ended_at is not None


def test_an_expired_access_token_is_refreshed_with_rotation(app_client, db, customer):
    browser_session(db, app_client, customer)
    _open_life(app_client)
    with db.session() as s:
        before = {r.token_hash for r in s.query(OidcRefreshToken)}
    previous = clock.use(clock.FrozenClock(clock.now() + timedelta(minutes=11)))
    try:
        r = app_client.get("/life", follow_redirects=False)
    finally:
        clock.use(previous)
    assert r.status_code == 200 and "周婷" in r.text
    with db.session() as s:
        tokens = list(s.query(OidcRefreshToken))
        assert len(tokens) == 2
        assert [t.rotated_at is not None for t in tokens if t.token_hash in before] == [True]


def test_callback_refuses_a_state_from_another_browser(app_client, db, customer):
    browser_session(db, app_client, customer)
    login = app_client.get("/life/login", follow_redirects=False)
    authorize = app_client.get(login.headers["location"], follow_redirects=False)
    callback = authorize.headers["location"]
    app_client.cookies.delete("atrium_life_state", path="/life/callback")
    r = app_client.get(callback, follow_redirects=False)
    assert r.status_code == 400 and "atrium_life" not in r.headers.get("set-cookie", "")
    assert "登录没有完成" in r.text


def test_callback_shows_a_refusal(app_client, db, customer):
    r = app_client.get("/life/callback", params={"error": "access_denied", "state": "x"})
    assert r.status_code == 403 and "您取消了登录" in r.text


def test_life_logout_ends_life_and_the_bank_session(app_client, db, customer):
    browser_session(db, app_client, customer)
    home = _open_life(app_client)
    r = app_client.post("/life/logout", data={"csrf_token": csrf_from(home.text)})
    assert urlsplit(str(r.url)).path == "/life/signed-out"
    assert [urlsplit(str(h.url)).path for h in r.history] == ["/life/logout", "/oauth2/logout"]
    assert "已退出 Atrium 生活" in r.text
    assert app_client.cookies.get(SESSION_COOKIE) is None
    with db.session() as s:
        assert sessions.list_sessions(s, customer.id) == []
        assert s.query(RpSession).one().ended_at is not None


def test_life_logout_needs_csrf(app_client, db, customer):
    browser_session(db, app_client, customer)
    _open_life(app_client)
    r = app_client.post("/life/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert app_client.get("/life", follow_redirects=False).status_code == 200
