"""The passkey API over HTTP, with a software authenticator at http://localhost."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from atrium.db.session import Database
from atrium.identity.models import LoginEvent
from atrium.web.deps import SESSION_COOKIE
from tests.identity.passkeys.authenticator import SoftAuthenticator
from tests.identity.passkeys.support import make_customer, sign_in_as

ORIGIN = "http://localhost"


def _add_passkey(api: TestClient, name: str = "Phone") -> SoftAuthenticator:
    auth = SoftAuthenticator(origin=ORIGIN)
    options = api.post("/api/v1/auth/passkeys/registration-options")
    assert options.status_code == 200, options.text
    credential = auth.create(options.json())
    created = api.post("/api/v1/auth/passkeys", json={"name": name, "credential": credential})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == auth.id
    return auth


def test_register_then_sign_in_with_a_passkey_at_level_two(api: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(api, db, cid, ["pwd", "otp"])
    auth = _add_passkey(api)
    listed = api.get("/api/v1/auth/passkeys").json()
    assert [(p["id"], p["name"], p["last_used_at"]) for p in listed] == [(auth.id, "Phone", None)]

    api.cookies.clear()
    options = api.post("/api/v1/auth/passkey-login/options", json={})
    assert options.status_code == 200, options.text
    assert options.json()["allowCredentials"] == [] and options.json()["userVerification"] == "required"
    signed_in = api.post("/api/v1/auth/passkey-login", json={"credential": auth.get(options.json())})
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["status"] == "signed-in" and body["subject_id"] == cid
    assert body["loa"] == 2 and body["acr"] == "urn:atrium:loa:2"
    assert signed_in.cookies.get(SESSION_COOKIE) == body["token"]

    me = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["id"] == cid
    assert api.get("/api/v1/auth/passkeys").json()[0]["last_used_at"] is not None
    with db.read_session() as s:
        events = list(s.scalars(select(LoginEvent).where(LoginEvent.customer_id == cid)))
    assert [(e.outcome, e.method) for e in events] == [("success", "passkey")]


def test_adding_a_passkey_needs_a_multi_factor_session(api: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(api, db, cid, ["pwd"])
    r = api.post("/api/v1/auth/passkeys/registration-options")
    # No phone, authenticator app or passkey on file: nothing can raise the session.
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/second-factor-missing")


def test_the_passkey_api_needs_a_customer_session(api: TestClient, db: Database) -> None:
    assert api.get("/api/v1/auth/passkeys").status_code == 401
    assert api.post("/api/v1/auth/passkeys/registration-options").status_code == 401
    assert api.delete("/api/v1/auth/passkeys/abc").status_code == 401


def test_passkeys_are_refused_at_an_ip_address(api: TestClient, db: Database) -> None:
    r = api.post("http://127.0.0.1/api/v1/auth/passkey-login/options", json={})
    assert r.status_code == 403
    assert r.json()["type"].endswith("/relying-party-refused")


def test_an_assertion_made_for_another_origin_is_refused_and_recorded(api: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(api, db, cid, ["pwd", "otp"])
    auth = _add_passkey(api)
    api.cookies.clear()
    options = api.post("/api/v1/auth/passkey-login/options", json={}).json()
    phished = auth.get(options, origin="https://atrium-bank.example")
    r = api.post("/api/v1/auth/passkey-login", json={"credential": phished})
    assert r.status_code == 401
    assert r.json()["type"].endswith("/invalid-passkey")
    assert SESSION_COOKIE not in r.cookies
    with db.read_session() as s:
        events = list(s.scalars(select(LoginEvent)))
    assert [(e.outcome, e.method, e.customer_id) for e in events] == [("failure", "passkey", None)]


def test_removing_a_passkey_needs_a_step_up_bound_to_it(api: TestClient, db: Database) -> None:
    cid = make_customer(db)
    sign_in_as(api, db, cid, ["pwd", "otp"])
    auth = _add_passkey(api)

    first = api.delete(f"/api/v1/auth/passkeys/{auth.id}")
    assert first.status_code == 401, first.text
    problem = first.json()
    assert problem["type"].endswith("/step-up-required") and "passkey" in problem["methods"]
    challenge = problem["challenge"]

    options = api.post("/api/v1/auth/step-up/passkey-options", json={"challenge": challenge})
    assert options.status_code == 200, options.text
    assert [c["id"] for c in options.json()["allowCredentials"]] == [auth.id]
    done = api.post("/api/v1/auth/step-up", json={"challenge": challenge, "method": "passkey",
                                                  "credential": auth.get(options.json())})
    assert done.status_code == 200, done.text

    removed = api.delete(f"/api/v1/auth/passkeys/{auth.id}", headers={"Atrium-Step-Up": challenge})
    assert removed.status_code == 204, removed.text
    assert api.get("/api/v1/auth/passkeys").json() == []
    again = api.delete(f"/api/v1/auth/passkeys/{auth.id}", headers={"Atrium-Step-Up": challenge})
    assert again.status_code == 404


def test_another_customers_passkey_is_not_found(api: TestClient, db: Database) -> None:
    mei = make_customer(db)
    sign_in_as(api, db, mei, ["pwd", "otp"])
    auth = _add_passkey(api)
    lei = make_customer(db, "lei", "李雷")
    sign_in_as(api, db, lei, ["pwd", "otp"])
    r = api.delete(f"/api/v1/auth/passkeys/{auth.id}")
    assert r.status_code == 404
    assert r.json()["type"].endswith("/passkey-not-found")
    assert api.get("/api/v1/auth/passkeys").json() == []
