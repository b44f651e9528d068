"""The login history and the session list with remote sign-out: domain functions and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.identity import login, sessions
from atrium.identity.protection import history, signins
from atrium.identity.protection.errors import SessionNotFound
from atrium.kit.errors import ValidationFailed
from tests.auth_support import password_sign_in
from tests.identity.protection.conftest import PASSWORD, make_customer
from tests.identity.protection.test_geo_and_devices import ANDROID_CHROME, IPHONE_SAFARI


def _open(db, customer_id: str, *, ip: str = "192.0.2.8", agent: str = IPHONE_SAFARI) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        token, principal = sessions.open_session(s, customer_id=customer_id, amr=["pwd"], ip=ip,
                                                 user_agent=agent)
    assert principal.sid
    return token, principal.sid


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sessions_are_listed_with_device_place_and_this_one_first(db, customer_id):
    _, phone_sid = _open(db, customer_id, ip="192.0.2.8", agent=IPHONE_SAFARI)
    _, laptop_sid = _open(db, customer_id, ip="10.0.0.4", agent=ANDROID_CHROME)
    other = make_customer(db, "someone")
    _open(db, other)
    with db.read_session() as s:
        listed = signins.list_signed_in(s, customer_id, current_sid=phone_sid).items
    assert [x.sid for x in listed][0] == phone_sid and {x.sid for x in listed} == {phone_sid, laptop_sid}
    first, second = listed
    assert first.current and not second.current
    assert (first.device.name, first.place.key, first.ip) == ("Safari on iOS", "shanghai", "192.0.2.8")
    assert (second.device.name, second.place.key) == ("Chrome on Android", "local")


def test_revoking_one_all_others_or_everything(db, customer_id):
    _, a = _open(db, customer_id)
    _, b = _open(db, customer_id)
    _, c = _open(db, customer_id)
    db.run(lambda s: signins.sign_out(s, customer_id, b))
    with pytest.raises(SessionNotFound):  # already ended
        db.run(lambda s: signins.sign_out(s, customer_id, b))
    result = db.run(lambda s: signins.sign_out_everywhere(s, customer_id, current_sid=a))
    assert (result.revoked, result.current_revoked) == (1, False)
    with db.read_session() as s:
        assert [x.sid for x in signins.list_signed_in(s, customer_id).items] == [a]
        assert not sessions.is_active(s, c)
    result = db.run(lambda s: signins.sign_out_everywhere(s, customer_id, current_sid=a, keep_current=False))
    assert (result.revoked, result.current_revoked) == (1, True)


def test_another_customers_session_is_not_found(db, customer_id):
    other = make_customer(db, "someone")
    _, theirs = _open(db, other)
    with pytest.raises(SessionNotFound) as err:
        db.run(lambda s: signins.sign_out(s, customer_id, theirs))
    assert err.value.status == 404
    with db.read_session() as s:
        assert sessions.is_active(s, theirs)


def _attempt(db, username: str, password: str, ip: str = "192.0.2.8") -> None:  # type: ignore[no-untyped-def]
    client = login.Client(ip=ip, user_agent=ANDROID_CHROME)
    try:
        password_sign_in(db, username=username, password=password, client=client)
    except Exception:
        db.run(lambda s: login.record_failure(s, username=username, method="pwd", client=client))


def test_the_login_history_is_newest_first_and_pages(db, frozen, customer_id):
    for n in range(5):
        frozen.set(frozen.now() + timedelta(minutes=1))
        _attempt(db, "mei", "wrong password" if n % 2 else PASSWORD, ip=f"198.51.100.{n}")
    make_customer(db, "someone")
    _attempt(db, "someone", PASSWORD)
    with db.read_session() as s:
        first = history.list_history(s, customer_id, limit=3)
        assert [e.outcome for e in first.items] == ["success", "failure", "success"]
        assert [e.ip for e in first.items] == ["198.51.100.4", "198.51.100.3", "198.51.100.2"]
        assert first.items[0].device.name == "Chrome on Android" and first.items[0].place.key == "beijing"
        assert first.next_cursor
        rest = history.list_history(s, customer_id, cursor=first.next_cursor, limit=3)
        assert [e.ip for e in rest.items] == ["198.51.100.1", "198.51.100.0"] and rest.next_cursor is None
        with pytest.raises(ValidationFailed):
            history.list_history(s, customer_id, cursor="bm9wZQ", limit=3)
        with pytest.raises(ValidationFailed):
            history.list_history(s, customer_id, limit=0)


# --- the API -------------------------------------------------------------------------------------------


def test_api_lists_sessions_and_marks_the_current_one(client, db, customer_id):
    token, sid = _open(db, customer_id)
    _open(db, customer_id, agent=ANDROID_CHROME)
    r = client.get("/api/v1/auth/sessions", headers=_bearer(token))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items[0]["sid"] == sid and items[0]["current"] is True
    assert items[0]["device"]["name"] == "Safari on iOS"
    assert items[0]["place"] == {"key": "shanghai", "zh": "上海", "en": "Shanghai"}
    assert [i["current"] for i in items] == [True, False]
    assert r.headers["cache-control"] == "no-store"


def test_api_revokes_own_sessions_and_404s_on_others(client, db, customer_id):
    token, sid = _open(db, customer_id)
    _, second = _open(db, customer_id)
    other = make_customer(db, "someone")
    other_token, theirs = _open(db, other)
    r = client.delete(f"/api/v1/auth/sessions/{theirs}", headers=_bearer(token))
    assert r.status_code == 404 and r.json()["type"].endswith("/session-not-found")
    assert client.get("/api/v1/auth/sessions", headers=_bearer(other_token)).status_code == 200
    assert client.delete(f"/api/v1/auth/sessions/{second}", headers=_bearer(token)).status_code == 204
    assert client.delete(f"/api/v1/auth/sessions/{second}", headers=_bearer(token)).status_code == 404
    assert client.delete("/api/v1/auth/sessions/no%20such", headers=_bearer(token)).status_code == 422
    assert client.delete(f"/api/v1/auth/sessions/{sid}", headers=_bearer(token)).status_code == 204
    assert client.get("/api/v1/auth/sessions", headers=_bearer(token)).status_code == 401


def test_api_signs_out_everywhere(client, db, customer_id):
    token, _ = _open(db, customer_id)
    others = [_open(db, customer_id)[0] for _ in range(2)]
    r = client.post("/api/v1/auth/sessions/revoke-all", headers=_bearer(token))
    assert r.status_code == 200 and r.json() == {"revoked": 2, "current_revoked": False}
    assert all(client.get("/api/v1/auth/sessions", headers=_bearer(t)).status_code == 401 for t in others)
    r = client.post("/api/v1/auth/sessions/revoke-all", json={"keep_current": False}, headers=_bearer(token))
    assert r.json() == {"revoked": 1, "current_revoked": True}
    assert client.get("/api/v1/auth/sessions", headers=_bearer(token)).status_code == 401


def test_api_login_history(client, db, customer_id):
    token, _ = _open(db, customer_id)
    _attempt(db, "mei", "wrong password")
    r = client.get("/api/v1/auth/login-history?limit=5", headers=_bearer(token))
    assert r.status_code == 200
    body = r.json()
    assert [e["outcome"] for e in body["items"]] == ["failure"] and body["next_cursor"] is None
    assert client.get("/api/v1/auth/login-history").status_code == 401
    assert client.get("/api/v1/auth/login-history?limit=0", headers=_bearer(token)).status_code == 422


def test_api_sign_in_is_refused_with_423_while_locked(client, db, frozen, customer_id):
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"username": "mei", "password": "wrong password"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD})
    assert r.status_code == 423, r.text
    body = r.json()
    assert body["type"].endswith("/account-locked") and body["lock"] == "temporary"
    assert body["locked_until"] == (frozen.now() + timedelta(minutes=15)).isoformat()
    assert r.headers["retry-after"] == "900"
