"""Refresh with rotation and reuse detection, RFC 7009 revocation, and the session tie: ending the browser
session (sign out everywhere, or the provider's logout) ends every token of it at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.identity import sessions
from atrium.identity.errors import SessionExpired
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.models import OidcGrant
from atrium.kit import clock
from atrium.web.deps import SESSION_COOKIE
from tests.identity.oidc.support import (
    BASE,
    life_secret,
    query_of,
    refresh,
    sign_in_to_life_client,
)
from tests.web.mobile.factories import csrf_from


def _live(db, access_token: str) -> bool:
    with db.session() as s:
        return oidc.authenticate_access_token(s, access_token) is not None


def test_refresh_rotates_the_refresh_token(app_client, db, customer):
    first = sign_in_to_life_client(db, app_client, customer)
    r = refresh(app_client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _live(db, second["access_token"])
    assert refresh(app_client, second["refresh_token"]).status_code == 200  # the successor works


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(app_client, db, customer):
    first = sign_in_to_life_client(db, app_client, customer)
    second = refresh(app_client, first["refresh_token"]).json()
    reuse = refresh(app_client, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Every token of the family is dead: the newest refresh token and every access token.
    assert refresh(app_client, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert not _live(db, second["access_token"]) and not _live(db, first["access_token"])
    with db.session() as s:
        assert s.query(OidcGrant).one().revoked_reason == "refresh-reuse"


def test_another_sign_in_is_not_touched_by_a_family_revocation(app_client, db, customer):
    one = sign_in_to_life_client(db, app_client, customer)
    two = sign_in_to_life_client(db, app_client, customer)
    refresh(app_client, one["refresh_token"])
    refresh(app_client, one["refresh_token"])  # reuse: family one revoked
    assert not _live(db, one["access_token"])
    assert _live(db, two["access_token"])


def test_a_client_cannot_refresh_another_clients_token(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    r = app_client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(oidc.PARTNER_CLIENT, oidc.default_client_secret(oidc.PARTNER_CLIENT)),
    )
    assert r.json()["error"] == "invalid_grant"
    assert refresh(app_client, tokens["refresh_token"]).status_code == 200  # still the owner's


def test_refresh_cannot_widen_the_scope(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    r = app_client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid"},
        auth=(oidc.LIFE_CLIENT, life_secret()),
    )
    assert r.status_code == 200 and r.json()["scope"] == "openid"


def test_access_tokens_expire(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    previous = clock.use(clock.FrozenClock(clock.now() + timedelta(minutes=16)))
    try:
        assert not _live(db, tokens["access_token"])
    finally:
        clock.use(previous)


def test_revoking_a_refresh_token_revokes_its_access_tokens(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    r = app_client.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"]}, auth=(oidc.LIFE_CLIENT, life_secret())
    )
    assert r.status_code == 200
    assert not _live(db, tokens["access_token"])
    assert refresh(app_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_an_access_token_and_unknown_tokens(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    auth = (oidc.LIFE_CLIENT, life_secret())
    assert app_client.post("/oauth2/revoke", data={"token": "unknown"}, auth=auth).status_code == 200
    assert _live(db, tokens["access_token"])
    r = app_client.post(
        "/oauth2/revoke", data={"token": tokens["access_token"], "token_type_hint": "access_token"}, auth=auth
    )
    assert r.status_code == 200
    assert not _live(db, tokens["access_token"])


def test_revocation_needs_the_owning_client(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    partner = (oidc.PARTNER_CLIENT, oidc.default_client_secret(oidc.PARTNER_CLIENT))
    assert (
        app_client.post("/oauth2/revoke", data={"token": tokens["refresh_token"]}, auth=partner).status_code
        == 200
    )
    assert _live(db, tokens["access_token"])  # another client's token: ignored
    bad = app_client.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"]}, auth=(oidc.LIFE_CLIENT, "x")
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert app_client.post("/oauth2/revoke", data={}, auth=partner).json()["error"] == "invalid_request"


def test_sign_out_everywhere_ends_every_token_of_the_session(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    with db.unit_of_work() as s:
        assert sessions.revoke_all(s, customer.id) == 1
    assert not _live(db, tokens["access_token"])
    r = app_client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 401
    assert refresh(app_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_logout_with_an_id_token_hint_ends_the_session_and_its_tokens(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    session_token = app_client.cookies.get(SESSION_COOKIE)
    r = app_client.get(
        "/oauth2/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": BASE + "/life/signed-out",
            "state": "bye",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith(BASE + "/life/signed-out?")
    assert query_of(r.headers["location"]) == {"state": "bye"}
    assert f'{SESSION_COOKIE}=""' in r.headers["set-cookie"]  # the browser's cookie is cleared
    assert not _live(db, tokens["access_token"])
    with db.session() as s, pytest.raises(SessionExpired):  # the browser session itself has ended
        sessions.authenticate(s, session_token or "")
    assert refresh(app_client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_logout_ignores_an_unregistered_post_logout_redirect_uri(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    r = app_client.get(
        "/oauth2/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.status_code == 200 and "evil.example" not in r.text
    assert not _live(db, tokens["access_token"])


def test_logout_without_a_hint_asks_first_and_needs_csrf(app_client, db, customer):
    tokens = sign_in_to_life_client(db, app_client, customer)
    page = app_client.get("/oauth2/logout")
    assert page.status_code == 200 and 'name="confirm"' in page.text
    assert _live(db, tokens["access_token"])  # a bare GET does not sign anybody out
    forged = app_client.post("/oauth2/logout", data={"confirm": "yes"}, follow_redirects=False)
    assert forged.status_code == 403
    assert _live(db, tokens["access_token"])
    r = app_client.post(
        "/oauth2/logout", data={"confirm": "yes", "csrf_token": csrf_from(page.text)}, follow_redirects=False
    )
    assert r.status_code == 200
    assert not _live(db, tokens["access_token"])
