"""Signing in over the API: password then a second factor; trusted devices; SMS-code sign-in; refusals."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from atrium.identity import service
from tests.auth_support import last_code, phone_for

PASSWORD = "correct horse battery"


def _customer(db, username: str = "mei", *, phone: bool = True) -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.create_customer(
            s,
            username=username,
            password=PASSWORD,
            display_name="王美",
            phone=phone_for(username) if phone else None,
        ).id


def _device_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, base64.b64encode(spki).decode()


def _sign_raw(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    """As WebCrypto signs: raw r||s, base64."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def _second_factor(client, ticket: str, phone: str):  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/auth/login/second-factor/sms", json={"ticket": ticket}).status_code == 200
    return client.post(
        "/api/v1/auth/login/second-factor", json={"ticket": ticket, "method": "sms", "code": last_code(phone)}
    )


def test_password_then_sms_gives_a_level_two_session(client, db):
    _customer(db)
    first = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD})
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "second-factor-required" and "token" not in body
    assert body["methods"] == ["sms"] and body["phone_masked"].startswith("138****")
    done = _second_factor(client, body["ticket"], phone_for("mei"))
    assert done.status_code == 200, done.text
    assert done.json()["loa"] == 2 and done.json()["acr"] == "urn:atrium:loa:2"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {done.json()['token']}"})
    assert me.json()["username"] == "mei"


def test_a_code_works_once_and_only_for_its_ticket(client, db):
    _customer(db)
    t1 = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD}).json()["ticket"]
    t2 = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD}).json()["ticket"]
    client.post("/api/v1/auth/login/second-factor/sms", json={"ticket": t1})
    code = last_code(phone_for("mei"))
    other = client.post(
        "/api/v1/auth/login/second-factor", json={"ticket": t2, "method": "sms", "code": code}
    )
    assert other.status_code == 401
    ok = client.post("/api/v1/auth/login/second-factor", json={"ticket": t1, "method": "sms", "code": code})
    assert ok.status_code == 200
    again = client.post(
        "/api/v1/auth/login/second-factor", json={"ticket": t1, "method": "sms", "code": code}
    )
    assert again.status_code == 401


def test_a_forged_ticket_is_refused(client, db):
    _customer(db)
    r = client.post(
        "/api/v1/auth/login/second-factor", json={"ticket": "e30.e30.AAAA", "method": "sms", "code": "123456"}
    )
    assert r.status_code == 401 and r.json()["type"].endswith("ticket-invalid")


def test_a_bound_device_skips_the_second_factor_next_time(client, db):
    _customer(db)
    key, public = _device_key()
    first = client.post(
        "/api/v1/auth/login", json={"username": "mei", "password": PASSWORD, "device": {"public_key": public}}
    ).json()
    bound = _second_factor(client, first["ticket"], phone_for("mei")).json()
    device_id = bound["device_id"]
    assert device_id
    nonce = client.get("/api/v1/auth/device-nonce").json()["nonce"]
    proof = {"device_id": device_id, "nonce": nonce, "signature": _sign_raw(key, nonce.encode())}
    again = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD, "device": proof})
    assert again.status_code == 200
    assert again.json()["status"] == "signed-in" and again.json()["loa"] == 2
    # Someone else's key cannot impersonate the device.
    thief, _ = _device_key()
    nonce = client.get("/api/v1/auth/device-nonce").json()["nonce"]
    forged = {"device_id": device_id, "nonce": nonce, "signature": _sign_raw(thief, nonce.encode())}
    r = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD, "device": forged})
    assert r.json()["status"] == "second-factor-required"


def test_sms_code_sign_in_without_a_trusted_device_is_level_one(client, db):
    _customer(db)
    phone = phone_for("mei")
    assert client.post("/api/v1/auth/sms-login/send", json={"phone": phone}).status_code == 202
    r = client.post("/api/v1/auth/sms-login", json={"phone": phone, "code": last_code(phone)})
    assert r.status_code == 200 and r.json()["loa"] == 1


def test_sms_sign_in_for_an_unknown_phone_answers_the_same_and_sends_nothing(client, db):
    r = client.post("/api/v1/auth/sms-login/send", json={"phone": "+8613900000000"})
    assert r.status_code == 202 and r.json() == {"sent": True, "expires_in": None, "resend_after": None}
    r = client.post("/api/v1/auth/sms-login", json={"phone": "+8613900000000", "code": "123456"})
    assert r.status_code == 401


def test_a_customer_without_a_second_factor_signs_in_at_level_one(client, db):
    _customer(db, "nophone", phone=False)
    r = client.post("/api/v1/auth/login", json={"username": "nophone", "password": PASSWORD})
    assert r.json()["status"] == "signed-in" and r.json()["loa"] == 1


def test_wrong_passwords_lock_the_account_even_for_the_right_one(client, db):
    _customer(db)
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/login", json={"username": "mei", "password": "nope"}).status_code == 401
        )
    r = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD})
    assert r.status_code == 423 and r.json()["type"].endswith("account-locked")
    assert "Retry-After" in r.headers


def test_the_login_history_records_attempts(client, db):
    from atrium.identity.models import LoginEvent

    _customer(db)
    client.post(
        "/api/v1/auth/login",
        json={"username": "mei", "password": "nope"},
        headers={"User-Agent": "TestPhone/1.0"},
    )
    with db.read_session() as s:
        events = s.query(LoginEvent).all()
    assert [(e.outcome, e.method, e.user_agent) for e in events] == [("failure", "pwd", "TestPhone/1.0")]
