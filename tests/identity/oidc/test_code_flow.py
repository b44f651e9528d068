"""The authorization code flow with PKCE, through the HTTP endpoints."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from atrium.identity import sessions
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.models import OidcGrant
from tests.identity.oidc.support import (
    BASE,
    LIFE_REDIRECT,
    PARTNER_REDIRECT,
    authorize_params,
    browser_session,
    exchange,
    get_code,
    life_secret,
    pkce,
    query_of,
)


def _claims(app_client, token: str) -> tuple[dict, dict]:
    key_set = KeySet.import_key_set(app_client.get("/oauth2/jwks").json())
    decoded = jwt.decode(token, key_set, algorithms=["ES256"])
    return decoded.header, decoded.claims


def test_full_flow_issues_tokens_tied_to_the_browser_session(app_client, db, customer):
    sid = browser_session(db, app_client, customer, amr=("pwd", "sms"))
    verifier, challenge = pkce()
    params = authorize_params(challenge=challenge)
    code = get_code(app_client, params)
    r = exchange(app_client, code, verifier)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and 300 <= body["expires_in"] <= 900
    assert set(body["scope"].split()) == {"openid", "profile", "offline_access"}
    assert body["refresh_token"]

    header, id_claims = _claims(app_client, body["id_token"])
    assert header["typ"] == "JWT"
    assert id_claims["iss"] == BASE and id_claims["aud"] == oidc.LIFE_CLIENT
    assert id_claims["sub"] == customer.id and id_claims["sid"] == sid
    assert id_claims["nonce"] == params["nonce"]
    assert id_claims["acr"] == "urn:atrium:loa:2" and sorted(id_claims["amr"]) == ["pwd", "sms"]
    assert isinstance(id_claims["auth_time"], int)
    assert id_claims["name"] == customer.display_name

    header, at = _claims(app_client, body["access_token"])
    assert header["typ"] == "at+jwt"
    assert at["aud"] == oidc.ACCESS_AUDIENCE and at["client_id"] == oidc.LIFE_CLIENT
    assert at["sub"] == customer.id and at["sid"] == sid and at["acr"] == "urn:atrium:loa:2"
    assert 300 <= at["exp"] - at["iat"] <= 900

    with db.session() as s:
        principal = oidc.authenticate_access_token(s, body["access_token"])
    assert principal is not None
    assert (principal.kind, principal.id, principal.sid, principal.loa) == ("customer", customer.id, sid, 2)
    assert principal.client_id == oidc.LIFE_CLIENT and "openid" in (principal.scopes or ())

    info = app_client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200 and info.json() == {
        "sub": customer.id,
        "name": customer.display_name,
        "preferred_username": customer.username,
        "locale": "zh",
    }


def test_an_id_token_is_not_an_access_token(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    body = exchange(app_client, get_code(app_client, authorize_params(challenge=challenge)), verifier).json()
    with db.session() as s:
        assert oidc.authenticate_access_token(s, body["id_token"]) is None
        assert oidc.authenticate_access_token(s, body["access_token"] + "x") is None
        assert oidc.authenticate_access_token(s, "garbage") is None
    r = app_client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {body['id_token']}"})
    assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]


def test_wrong_verifier_is_refused_and_burns_the_code(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    code = get_code(app_client, authorize_params(challenge=challenge))
    wrong, _ = pkce()
    r = exchange(app_client, code, wrong)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert exchange(app_client, code, verifier).json()["error"] == "invalid_grant"  # single use, even so


def test_reused_code_is_refused_and_revokes_what_it_issued(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    code = get_code(app_client, authorize_params(challenge=challenge))
    first = exchange(app_client, code, verifier).json()
    again = exchange(app_client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    with db.session() as s:
        assert oidc.authenticate_access_token(s, first["access_token"]) is None
        grant = s.query(OidcGrant).one()
        assert grant.revoked_reason == "code-reuse"


def test_wrong_redirect_uri_at_the_token_endpoint_is_refused(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    code = get_code(app_client, authorize_params(challenge=challenge))
    r = exchange(app_client, code, verifier, redirect_uri=BASE + "/life/other")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_expired_code_is_refused(app_client, db, customer):
    from datetime import timedelta

    from atrium.kit import clock

    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    code = get_code(app_client, authorize_params(challenge=challenge))
    previous = clock.use(clock.FrozenClock(clock.now() + timedelta(seconds=61)))
    try:
        r = exchange(app_client, code, verifier)
    finally:
        clock.use(previous)
    assert r.json()["error"] == "invalid_grant"


def test_client_authentication(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    code = get_code(app_client, authorize_params(challenge=challenge))
    r = exchange(app_client, code, verifier, client_secret="wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = app_client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": LIFE_REDIRECT,
            "code_verifier": verifier,
        },
        auth=(oidc.LIFE_CLIENT, "wrong"),
    )
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    r = app_client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": LIFE_REDIRECT,
            "code_verifier": verifier,
        },
        auth=(oidc.LIFE_CLIENT, life_secret()),
    )
    assert r.status_code == 200, r.text  # HTTP Basic works too
    bad = app_client.post("/oauth2/token", data={"grant_type": "password", "client_id": oidc.MOBILE_CLIENT})
    assert bad.status_code == 400 and bad.json()["error"] == "unsupported_grant_type"


def test_public_client_uses_pkce_alone_and_may_call_the_api(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    redirect = "cn.atrium.mobile:/oauth2/callback"
    params = authorize_params(oidc.MOBILE_CLIENT, redirect, challenge, scope=f"openid {oidc.API_SCOPE}")
    code = get_code(app_client, params)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
        "client_id": oidc.MOBILE_CLIENT,
    }
    assert app_client.post("/oauth2/token", data={**form, "client_secret": "x"}).status_code == 401
    r = app_client.post("/oauth2/token", data=form)
    assert r.status_code == 200, r.text
    with db.session() as s:
        principal = oidc.authenticate_access_token(s, r.json()["access_token"])
    assert principal is not None and oidc.API_SCOPE in (principal.scopes or ())


def test_only_the_banks_own_apps_may_ask_for_api_access(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    for client_id, redirect in ((oidc.LIFE_CLIENT, LIFE_REDIRECT), (oidc.PARTNER_CLIENT, PARTNER_REDIRECT)):
        params = authorize_params(client_id, redirect, challenge, scope=f"openid {oidc.API_SCOPE}")
        r = app_client.get("/oauth2/authorize", params=params, follow_redirects=False)
        assert query_of(r.headers["location"])["error"] == "invalid_scope"


def test_no_session_goes_to_login_and_comes_back(app_client, db, customer):
    _, challenge = pkce()
    params = authorize_params(challenge=challenge)
    r = app_client.get("/oauth2/authorize", params=params, follow_redirects=False)
    assert r.status_code == 303
    location = urlsplit(r.headers["location"])
    assert location.path == "/login"
    back = parse_qs(location.query)["next"][0]
    assert back.startswith("/oauth2/authorize?") and query_of(back) == params
    none = app_client.get("/oauth2/authorize", params={**params, "prompt": "none"}, follow_redirects=False)
    assert query_of(none.headers["location"])["error"] == "login_required"


def test_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    for params in (
        authorize_params(client_id="nobody", challenge=challenge),
        authorize_params(redirect_uri="https://evil.example/cb", challenge=challenge),
        authorize_params(redirect_uri=LIFE_REDIRECT + "/x", challenge=challenge),
    ):
        r = app_client.get("/oauth2/authorize", params=params, follow_redirects=False)
        assert r.status_code == 400 and "location" not in r.headers
        assert "text/html" in r.headers["content-type"]


def test_other_errors_go_back_to_the_client_with_the_state(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    cases = [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"scope": "openid payments"}, "invalid_scope"),
    ]
    for change, error in cases:
        params = authorize_params(challenge=challenge, **change)
        r = app_client.get("/oauth2/authorize", params=params, follow_redirects=False)
        assert r.status_code == 303, (change, r.text)
        assert r.headers["location"].startswith(LIFE_REDIRECT + "?")
        answer = query_of(r.headers["location"])
        assert answer["error"] == error and answer["state"] == params["state"], (change, answer)


def test_a_code_for_an_ended_session_is_refused(app_client, db, customer):
    sid = browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    code = get_code(app_client, authorize_params(challenge=challenge))
    with db.unit_of_work() as s:
        sessions.revoke(s, customer.id, sid)
    assert exchange(app_client, code, verifier).json()["error"] == "invalid_grant"
