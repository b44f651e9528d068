"""/api/v1/auth/devices and /api/v1/auth/device-nonce."""

from __future__ import annotations

from atrium.db.session import Database
from atrium.identity import service as identity
from atrium.identity import sessions, stepup
from atrium.identity.devices import service as devices
from tests.identity.devices.keys import SoftDevice
from tests.identity.otp.support import last_code

PHONE = "+8613900001111"


def _customer(db: Database, username: str, phone: str | None = None) -> str:
    with db.unit_of_work() as s:
        return identity.create_customer(s, username=username, password="pw pw pw pw", display_name=username,
                                        phone=phone).id


def _bind(db: Database, customer_id: str, soft: SoftDevice | None = None, name: str = "") -> str:
    with db.unit_of_work() as s:
        key = (soft or SoftDevice()).public_key
        device = devices.register_device(s, customer_id=customer_id, public_key=key, name=name,
                                         user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")
        devices.mark_trusted(s, device.id)
        return device.id


def _bearer(db: Database, customer_id: str, device_id: str | None = None) -> dict[str, str]:
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=["pwd", "sms"], device_id=device_id)
    return {"Authorization": f"Bearer {token}"}


def test_the_nonce_is_public_and_proves_a_device(client, db) -> None:
    r = client.get("/api/v1/auth/device-nonce")
    assert r.status_code == 200
    body = r.json()
    assert body["expires_in"] == 120 and body["nonce"].startswith("dn1.")
    customer_id = _customer(db, "mei")
    soft = SoftDevice()
    device_id = _bind(db, customer_id, soft)
    with db.unit_of_work() as s:
        proved = devices.prove(s, customer_id=customer_id, device_id=device_id, nonce=body["nonce"],
                               signature=soft.sign_bytes(body["nonce"].encode()))
    assert proved is not None


def test_list_and_rename_own_devices(client, db) -> None:
    customer_id = _customer(db, "mei")
    this, other = _bind(db, customer_id, name="办公室电脑"), _bind(db, customer_id)
    headers = _bearer(db, customer_id, this)
    listed = client.get("/api/v1/auth/devices", headers=headers).json()
    assert {d["id"]: d["current"] for d in listed} == {this: True, other: False}
    first = next(d for d in listed if d["id"] == this)
    assert first["name"] == "办公室电脑" and first["trusted"] and first["cooling_off"]
    assert "public_key" not in first
    r = client.patch(f"/api/v1/auth/devices/{other}", json={"name": "Laptop"}, headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "Laptop"
    empty = client.patch(f"/api/v1/auth/devices/{other}", json={"name": ""}, headers=headers)
    assert empty.status_code == 422
    assert client.patch(f"/api/v1/auth/devices/{other}", json={"name": "x", "id": "y"},
                        headers=headers).status_code == 422


def test_another_customers_device_is_404(client, db) -> None:
    mine = _customer(db, "mei")
    theirs = _bind(db, _customer(db, "lei"))
    headers = _bearer(db, mine)
    assert client.get("/api/v1/auth/devices", headers=headers).json() == []
    r = client.patch(f"/api/v1/auth/devices/{theirs}", json={"name": "mine"}, headers=headers)
    assert r.status_code == 404 and r.json()["type"].endswith("/device-not-found")
    r = client.delete(f"/api/v1/auth/devices/{theirs}", headers=headers)
    assert r.status_code == 404  # not a step-up challenge: nothing tells the caller the id exists


def test_revoking_needs_a_step_up_grant_for_that_device(client, db) -> None:
    customer_id = _customer(db, "mei", phone=PHONE)
    keep, drop = _bind(db, customer_id), _bind(db, customer_id)
    headers = _bearer(db, customer_id, keep)
    r = client.delete(f"/api/v1/auth/devices/{drop}", headers=headers)
    assert r.status_code == 401, r.text
    problem = r.json()
    assert problem["type"].endswith("/step-up-required") and problem["action"] == "device.change"
    assert "insufficient_user_authentication" in r.headers["www-authenticate"]
    challenge = problem["challenge"]
    with db.unit_of_work() as s:
        principal = sessions.authenticate(s, headers["Authorization"][7:])
        stepup.send_sms(s, principal, challenge)
    with db.unit_of_work() as s:
        stepup.complete(s, principal, challenge, method="sms", code=last_code(s, PHONE))
    # The grant is bound to `drop`: it does not remove `keep`.
    wrong = client.delete(f"/api/v1/auth/devices/{keep}", headers=headers | {"Atrium-Step-Up": challenge})
    assert wrong.status_code == 401
    r = client.delete(f"/api/v1/auth/devices/{drop}", headers=headers | {"Atrium-Step-Up": challenge})
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None
    assert [d["id"] for d in client.get("/api/v1/auth/devices", headers=headers).json()] == [keep]
    again = client.delete(f"/api/v1/auth/devices/{drop}", headers=headers | {"Atrium-Step-Up": challenge})
    assert again.status_code == 404


def test_the_routes_need_a_session(client) -> None:
    assert client.get("/api/v1/auth/devices").status_code == 401
    assert client.patch("/api/v1/auth/devices/dev_X", json={"name": "x"}).status_code == 401
    assert client.delete("/api/v1/auth/devices/dev_X").status_code == 401
