"""/api/v1/auth/totp and /api/v1/auth/password: enrolment, step-up protected removal and password change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from atrium.identity import passwords
from atrium.identity import service as identity
from atrium.kit import clock
from tests.identity.otp.support import PHONE_OF_MEI, last_code, make_customer, sign_in_as


@pytest.fixture()
def api(shared_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(shared_app) as c:  # the whole app, as app_with_security() makes it
        yield c


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _step_up(api: TestClient, db, headers: dict[str, str], problem: dict, *, method: str, code: str) -> str:  # type: ignore[no-untyped-def]
    assert problem["type"].endswith("step-up-required"), problem
    challenge = problem["challenge"]
    if method == "sms":
        sent = api.post("/api/v1/auth/step-up/sms", json={"challenge": challenge}, headers=headers)
        assert sent.status_code == 200
        with db.read_session() as s:
            code = last_code(s, PHONE_OF_MEI)
    r = api.post("/api/v1/auth/step-up", json={"challenge": challenge, "method": method, "code": code},
                 headers=headers)
    assert r.status_code == 200, r.text
    return challenge


def test_enrol_confirm_and_remove_with_step_up(api, db, frozen):
    cid = make_customer(db)
    headers = _bearer(sign_in_as(api, db, cid, ["pwd", "sms"]))
    assert api.get("/api/v1/auth/totp", headers=headers).json() == {"enrolled": False, "pending": False}
    r = api.post("/api/v1/auth/totp/enrolment", headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    uri = body["otpauth_uri"]
    assert uri.startswith("otpauth://totp/Atrium:mei?") and "issuer=Atrium" in uri
    app = pyotp.TOTP(body["secret"])
    wrong = api.post("/api/v1/auth/totp/enrolment/confirm", json={"code": "000000" if app.now() != "000000"
                                                                     else "111111"}, headers=headers)
    assert wrong.status_code == 401 and wrong.json()["type"].endswith("invalid-code")
    r = api.post("/api/v1/auth/totp/enrolment/confirm", json={"code": app.at(clock.now())}, headers=headers)
    assert r.json() == {"enrolled": True, "pending": False}

    r = api.delete("/api/v1/auth/totp", headers=headers)
    assert r.status_code == 401 and "insufficient_user_authentication" in r.headers["www-authenticate"]
    frozen.set(frozen.now() + timedelta(seconds=30))
    challenge = _step_up(api, db, headers, r.json(), method="otp", code=app.at(clock.now()))
    r = api.delete("/api/v1/auth/totp", headers=headers | {"Atrium-Step-Up": challenge})
    assert r.status_code == 204
    assert api.get("/api/v1/auth/totp", headers=headers).json()["enrolled"] is False
    # the grant was used up with the removal
    assert api.delete("/api/v1/auth/totp", headers=headers | {"Atrium-Step-Up": challenge}).status_code == 401


def test_a_password_only_session_cannot_add_an_authenticator(api, db, frozen):
    cid = make_customer(db)
    headers = _bearer(sign_in_as(api, db, cid, ["pwd"]))
    r = api.post("/api/v1/auth/totp/enrolment", headers=headers)
    assert r.status_code == 401 and r.json()["type"].endswith("step-up-required")


def test_password_change_needs_step_up_and_the_policy(api, db, frozen):
    cid = make_customer(db)
    headers = _bearer(sign_in_as(api, db, cid, ["pwd", "sms"]))
    other = sign_in_as(TestClient(api.app), db, cid, ["pwd"])  # another device
    body = {"old_password": "first password ok", "new_password": "violet tundra kayak"}
    r = api.post("/api/v1/auth/password", json=body, headers=headers)
    challenge = _step_up(api, db, headers, r.json(), method="sms", code="")
    step = headers | {"Atrium-Step-Up": challenge}

    weak = api.post("/api/v1/auth/password", json=body | {"new_password": "password1234"}, headers=step)
    assert weak.status_code == 422 and weak.json()["violations"] == ["common"]
    wrong = api.post("/api/v1/auth/password", json=body | {"old_password": "nope"}, headers=step)
    assert wrong.status_code == 422 and wrong.json()["type"].endswith("wrong-current-password")
    with db.read_session() as s:
        assert identity.get_customer(s, cid).failed_logins == 1  # counted although the change rolled back

    assert api.post("/api/v1/auth/password", json=body, headers=step).status_code == 204
    with db.read_session() as s:
        assert passwords.verify_password(identity.get_customer(s, cid).password_hash, "violet tundra kayak")
    assert api.get("/api/v1/auth/totp", headers=headers).status_code == 200  # this session lives on
    # the other sessions are signed out
    assert api.get("/api/v1/auth/totp", headers=_bearer(other)).status_code == 401


def test_the_routes_need_a_customer(api):
    assert api.get("/api/v1/auth/totp").status_code == 401
    assert api.post("/api/v1/auth/totp/enrolment").status_code == 401
    assert api.delete("/api/v1/auth/totp").status_code == 401
    body = {"old_password": "a", "new_password": "b"}
    assert api.post("/api/v1/auth/password", json=body).status_code == 401
