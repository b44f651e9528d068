"""The relying-party side (Atrium Life's sign-in), at the service level: ID-token validation and the
callback's checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.config import get_settings
from atrium.identity.oidc import keys, relying_party
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.errors import RelyingPartyFailed
from atrium.kit import clock
from tests.identity.oidc.support import BASE


def _id_token(session, **changes):  # type: ignore[no-untyped-def]
    claims = {
        "iss": BASE,
        "aud": oidc.LIFE_CLIENT,
        "sub": "cus_1",
        "sid": "ses_1",
        "nonce": "n1",
        "iat": int(clock.now().timestamp()),
        "exp": int(clock.now().timestamp()) + 600,
    }
    claims.update(changes)
    return keys.sign(session, {k: v for k, v in claims.items() if v is not None})


def _validate(session, token: str) -> dict:  # type: ignore[no-untyped-def]
    return relying_party.validate_id_token(
        session, token, issuer=BASE, client_id=oidc.LIFE_CLIENT, nonce="n1"
    )


def test_a_good_id_token_validates(db):
    with db.unit_of_work() as s:
        assert _validate(s, _id_token(s))["sub"] == "cus_1"


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "other"},
        {"nonce": None},
        {"aud": "partner-demo"},
        {"iss": "https://evil.example"},
        {"exp": 1},
        {"sid": None},
        {"azp": "partner-demo"},
    ],
)
def test_a_bad_id_token_is_refused(db, changes):
    with db.unit_of_work() as s, pytest.raises(RelyingPartyFailed):
        _validate(s, _id_token(s, **changes))


def test_an_access_token_is_not_an_id_token(db):
    with db.unit_of_work() as s:
        token = keys.sign(
            s,
            {
                "iss": BASE,
                "aud": oidc.LIFE_CLIENT,
                "sub": "c",
                "sid": "s",
                "nonce": "n1",
                "iat": int(clock.now().timestamp()),
                "exp": int(clock.now().timestamp()) + 60,
            },
            typ="at+jwt",
        )
        with pytest.raises(RelyingPartyFailed):
            _validate(s, token)


def test_callback_needs_the_browser_state_and_a_fresh_sign_in(db):
    with db.unit_of_work() as s:
        state, url = relying_party.begin_login(
            s, client_id=oidc.LIFE_CLIENT, redirect_uri=BASE + "/life/callback"
        )
        assert url.startswith("/oauth2/authorize?") and "code_challenge_method=S256" in url
    common = {
        "client_id": oidc.LIFE_CLIENT,
        "client_secret": "x",
        "issuer": BASE,
        "redirect_uri": BASE + "/life/callback",
        "code": "c",
    }
    with db.unit_of_work() as s, pytest.raises(RelyingPartyFailed, match="browser"):
        relying_party.complete_login(s, state=state, cookie_state="another", **common)
    previous = clock.use(clock.FrozenClock(clock.now() + timedelta(minutes=11)))
    try:
        with db.unit_of_work() as s, pytest.raises(RelyingPartyFailed, match="too long"):
            relying_party.complete_login(s, state=state, cookie_state=state, **common)
    finally:
        clock.use(previous)


def test_production_never_registers_clients_from_a_request(db, monkeypatch):
    monkeypatch.setattr(get_settings(), "env", "production")
    with db.unit_of_work() as s, pytest.raises(RelyingPartyFailed):
        relying_party.ensure_client(s, client_id=oidc.LIFE_CLIENT, base_url="https://evil.example")
    monkeypatch.setattr(get_settings(), "env", "test")
    with db.unit_of_work() as s:
        relying_party.ensure_client(s, client_id=oidc.LIFE_CLIENT, base_url=BASE)
        assert oidc.get_client(s, oidc.LIFE_CLIENT).redirect_uris == (BASE + "/life/callback",)
