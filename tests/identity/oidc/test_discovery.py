"""Discovery metadata, the JWKS, and key rotation (old public keys stay published)."""

from __future__ import annotations

import json

from joserfc import jwt
from joserfc.jwk import KeySet

from atrium.identity.oidc import keys
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.models import OidcSigningKey
from tests.identity.oidc.support import BASE


def test_discovery_document_names_our_endpoints(app_client):
    r = app_client.get("/.well-known/openid-configuration")
    assert r.status_code == 200
    meta = r.json()
    assert meta["issuer"] == BASE
    assert meta["authorization_endpoint"] == BASE + "/oauth2/authorize"
    assert meta["token_endpoint"] == BASE + "/oauth2/token"
    assert meta["jwks_uri"] == BASE + "/oauth2/jwks"
    assert meta["end_session_endpoint"] == BASE + "/oauth2/logout"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]


def test_jwks_creates_the_first_key_and_publishes_only_public_parts(app_client, db):
    r = app_client.get("/oauth2/jwks")
    assert r.status_code == 200
    (key,) = r.json()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256" and key["use"] == "sig"
    assert "d" not in key and key["kid"]
    with db.session() as s:
        row = s.get(OidcSigningKey, key["kid"])
        assert row is not None
        assert "PRIVATE KEY" not in row.private_sealed  # sealed at rest
        assert json.loads(row.public_jwk)["x"] == key["x"]
    assert app_client.get("/oauth2/jwks").json()["keys"] == [key]  # the same key, not a new one per call


def test_rotation_keeps_the_old_key_published_and_signs_with_the_new(db):
    with db.unit_of_work() as s:
        old_kid = oidc.ensure_key(s)
        old_token = keys.sign(s, {"sub": "x"})
        new_kid = oidc.rotate_keys(s)
    assert new_kid != old_kid
    with db.session() as s:
        published = oidc.jwks(s)
        kids = [k["kid"] for k in published["keys"]]
        assert set(kids) == {old_kid, new_kid}
        assert keys.current_key(s).kid == new_kid
        key_set = KeySet.import_key_set(published)
        assert jwt.decode(old_token, key_set, algorithms=["ES256"]).header["kid"] == old_kid
        assert keys.verify(s, old_token) is not None


def test_a_token_signed_by_a_foreign_key_is_not_ours(db):
    from joserfc.jwk import ECKey

    foreign = ECKey.generate_key("P-256", parameters={"kid": "foreign"})
    token = jwt.encode({"alg": "ES256", "kid": "foreign"}, {"sub": "x"}, foreign)
    with db.unit_of_work() as s:
        oidc.ensure_key(s)
        assert keys.verify(s, token) is None
        assert keys.verify(s, "not.a.jwt") is None
