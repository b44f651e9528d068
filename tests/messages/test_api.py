"""/api/v1/messages: the inbox, settings and push subscriptions over the API, per owner (another
customer's ids are 404), bad input a 4xx problem."""

from __future__ import annotations

import pytest

from atrium.messages import service as messages
from atrium.messages.domain import Money
from tests.auth_support import api_login
from tests.messages.factories import Person, person

KEYS = {"p256dh": "B" + "A" * 86, "auth": "A" * 22}


def send(db, who: Person, n: int, prefix: str = "e") -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    with db.unit_of_work() as s:
        for i in range(n):
            m = messages.send_templated(
                s, customer_id=who.id, template_key="transfer.received", dedup_key=f"{prefix}{i}",
                values={"amount": Money(i + 1, "CNY"), "account": "0001", "account_id": "acc_1"},
            )
            assert m is not None
            ids.append(m.id)
    return ids


@pytest.fixture()
def alice(db) -> Person:  # type: ignore[no-untyped-def]
    return person(db, "alice", balance_minor=0)


@pytest.fixture()
def auth(client, alice: Person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return api_login(client, "alice", "correct horse battery", phone=alice.phone)


def test_the_inbox_pages_and_counts(client, db, alice, auth) -> None:  # type: ignore[no-untyped-def]
    ids = send(db, alice, 5)
    r = client.get("/api/v1/messages", params={"limit": 2}, headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert [m["id"] for m in body["items"]] == ids[::-1][:2] and body["unread"] == 5
    assert body["items"][0]["category"] == "transaction" and body["items"][0]["read_at"] is None
    seen = [m["id"] for m in body["items"]]
    while body["next_cursor"]:
        body = client.get("/api/v1/messages", params={"limit": 2, "cursor": body["next_cursor"]},
                          headers=auth).json()
        seen += [m["id"] for m in body["items"]]
    assert seen == ids[::-1]
    counts = client.get("/api/v1/messages/unread-count", headers=auth).json()
    assert counts == {"unread": 5, "by_category": {"transaction": 5, "security": 0, "service": 0,
                                                   "marketing": 0}}
    bad = client.get("/api/v1/messages", params={"cursor": "not a cursor"}, headers=auth)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/messages", params={"category": "gossip"}, headers=auth).status_code == 422


def test_read_one_read_all_and_delete(client, db, alice, auth) -> None:  # type: ignore[no-untyped-def]
    first, second, third = send(db, alice, 3)
    got = client.get(f"/api/v1/messages/{first}", headers=auth).json()
    assert got["read_at"] is None  # reading through GET does not mark it
    read = client.post(f"/api/v1/messages/{first}/read", headers=auth).json()
    assert read["read_at"] is not None
    assert client.post(f"/api/v1/messages/{first}/read", headers=auth).json()["read_at"] == read["read_at"]
    assert client.post("/api/v1/messages/read-all", headers=auth).json() == {"marked": 2, "unread": 0}
    assert client.post("/api/v1/messages/read-all", headers=auth).json() == {"marked": 0, "unread": 0}
    assert client.delete(f"/api/v1/messages/{second}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/messages/{second}", headers=auth).status_code == 204  # again: fine
    assert client.get(f"/api/v1/messages/{second}", headers=auth).status_code == 404
    assert [m["id"] for m in client.get("/api/v1/messages", headers=auth).json()["items"]] == [third, first]


def test_another_customers_messages_are_not_found(client, db, alice, auth) -> None:  # type: ignore[no-untyped-def]
    bob = person(db, "bob", balance_minor=0)
    (theirs,) = send(db, bob, 1)
    for method, path in [("GET", f"/api/v1/messages/{theirs}"), ("POST", f"/api/v1/messages/{theirs}/read"),
                         ("DELETE", f"/api/v1/messages/{theirs}"), ("GET", "/api/v1/messages/msg_nope")]:
        r = client.request(method, path, headers=auth)
        assert r.status_code == 404, (method, path)
        assert r.json()["type"].endswith("message-not-found")
    assert client.post("/api/v1/messages/read-all", headers=auth).json()["marked"] == 0
    with db.read_session() as s:
        assert messages.unread_count(s, bob.id) == 1


def test_preferences(client, db, alice, auth) -> None:  # type: ignore[no-untyped-def]
    prefs = client.get("/api/v1/messages/preferences", headers=auth).json()
    assert prefs["marketing_opt_in"] is False
    assert prefs["locked"]["security"] == ["push", "sms"] and prefs["channels"]["service"] == {"push": False}
    r = client.put("/api/v1/messages/preferences", headers=auth,
                   json={"marketing_opt_in": True, "channels": {"transaction": {"sms": True}}})
    assert r.status_code == 200
    assert r.json()["channels"]["transaction"] == {"sms": True, "push": True} and r.json()["marketing_opt_in"]
    refused = client.put("/api/v1/messages/preferences", headers=auth,
                         json={"marketing_opt_in": False, "channels": {"security": {"sms": False}}})
    assert refused.status_code == 422 and refused.json()["type"].endswith("invalid-preferences")
    assert client.get("/api/v1/messages/preferences", headers=auth).json()["marketing_opt_in"] is True
    assert client.put("/api/v1/messages/preferences", headers=auth,
                      json={"channels": {"service": {"sms": True}}}).status_code == 422
    assert client.put("/api/v1/messages/preferences", headers=auth, json={"colour": "red"}).status_code == 422


def test_push_subscriptions(client, db, alice, auth) -> None:  # type: ignore[no-untyped-def]
    key = client.get("/api/v1/messages/push-key", headers=auth).json()
    assert key == {"enabled": True, "public_key": None}  # the development outbox: no VAPID key
    sub = {"endpoint": "https://push.example.net/send/abc", "keys": KEYS, "expirationTime": None,
           "device_label": "Pixel"}
    made = client.post("/api/v1/messages/push-subscriptions", json=sub, headers=auth)
    assert made.status_code == 201 and made.json()["device_label"] == "Pixel"
    again = client.post("/api/v1/messages/push-subscriptions", json=sub, headers=auth)
    assert again.json()["id"] == made.json()["id"]  # the same browser is one subscription
    listed = client.get("/api/v1/messages/push-subscriptions", headers=auth).json()
    assert [s["id"] for s in listed] == [made.json()["id"]] and "endpoint" not in listed[0]
    for bad in ({**sub, "endpoint": "http://push.example.net/x"}, {**sub, "endpoint": "https://u:p@h/x"},
                {**sub, "keys": {**KEYS, "p256dh": "C" + "A" * 86}},
                {**sub, "keys": {**KEYS, "auth": "A" * 30}}):
        assert client.post("/api/v1/messages/push-subscriptions", json=bad, headers=auth).status_code == 422
    bob = person(db, "bob", balance_minor=0)
    bob_auth = api_login(client, "bob", "correct horse battery", phone=bob.phone)
    sid = made.json()["id"]
    assert client.delete(f"/api/v1/messages/push-subscriptions/{sid}", headers=bob_auth).status_code == 404
    assert client.delete(f"/api/v1/messages/push-subscriptions/{sid}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/messages/push-subscriptions/{sid}", headers=auth).status_code == 204
    assert client.get("/api/v1/messages/push-subscriptions", headers=auth).json() == []


def test_signed_out_callers_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    for method, path in [("GET", "/api/v1/messages"), ("GET", "/api/v1/messages/unread-count"),
                         ("PUT", "/api/v1/messages/preferences"), ("POST", "/api/v1/messages/read-all")]:
        assert client.request(method, path).status_code == 401


def test_the_push_key_is_the_vapid_public_key_with_web_push(client, db, auth, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from atrium.config import get_settings
    from atrium.notify import push

    private, public = push.generate_vapid_keys()
    monkeypatch.setattr(get_settings().push, "sender", "webpush")
    monkeypatch.setattr(get_settings().push, "vapid_private_key", private)
    key = client.get("/api/v1/messages/push-key", headers=auth).json()
    assert key == {"enabled": True, "public_key": public}  # derived from the private key
    monkeypatch.setattr(get_settings().push, "sender", "off")
    key = client.get("/api/v1/messages/push-key", headers=auth).json()
    assert key == {"enabled": False, "public_key": None}
