from atrium.identity import service


def test_customer_logs_in_and_reads_me(client, db):
    with db.unit_of_work() as s:
        service.create_customer(s, username="alice", password="correct horse", display_name="Alice")
    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": "correct horse"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "alice"


def test_wrong_password_is_401_problem(client, db):
    with db.unit_of_work() as s:
        service.create_customer(s, username="bob", password="right one", display_name="Bob")
    r = client.post("/api/v1/auth/login", json={"username": "bob", "password": "wrong"})
    assert r.status_code == 401
    assert r.json()["type"].endswith("invalid-credentials")


def test_me_needs_a_session(client):
    assert client.get("/api/v1/auth/me").status_code == 401
