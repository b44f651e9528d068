"""Step-up over the API: large transfers, new payees and limit raises demand a challenge; a completed
challenge lets exactly that action through exactly once; the risk seam can raise the level."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.accounts import service as accounts
from atrium.identity import service as identity
from atrium.identity import stepup
from tests.auth_support import api_login, complete_step_up, last_code, phone_for
from tests.web.mobile.factories import deposit

PASSWORD = "correct horse battery"


@pytest.fixture()
def world(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        mei = identity.create_customer(
            s, username="mei", password=PASSWORD, display_name="王美", phone=phone_for("mei")
        )
        lei = identity.create_customer(
            s, username="lei", password=PASSWORD, display_name="李雷", phone=phone_for("lei")
        )
        source = accounts.open_account(s, customer_id=mei.id, product="current", currency="CNY")
        target = accounts.open_account(s, customer_id=lei.id, product="current", currency="CNY")
    deposit(db, source, 50_000_00)
    return {"source": source, "target": target}


@pytest.fixture()
def auth(client, world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return api_login(client, "mei", PASSWORD)


def _transfer(client, auth, world, amount: int, key: str, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    body = {
        "from_account_id": world["source"].id,
        "amount_minor": amount,
        "currency": "CNY",
        "to": {"type": "atrium", "account_number": world["target"].number},
    }
    return client.post(
        "/api/v1/transfers", json=body, headers={**auth, "Idempotency-Key": key, **(extra or {})}
    )


def test_a_small_transfer_needs_no_step_up(client, world, auth):
    r = _transfer(client, auth, world, 100_00, "small-0001")
    assert r.status_code == 201, r.text


def test_a_large_transfer_is_challenged_then_goes_through_once(client, world, auth):
    r = _transfer(client, auth, world, 6_000_00, "large-0001")
    assert r.status_code == 401
    problem = r.json()
    assert problem["type"].endswith("step-up-required") and problem["methods"] == ["sms"]
    assert "insufficient_user_authentication" in r.headers["WWW-Authenticate"]
    assert "6,000.00" in problem["summary"]
    headers = complete_step_up(client, auth, problem, phone=phone_for("mei"))
    assert "6,000.00" in _last_sms_body(), "the SMS names the amount it confirms"
    done = _transfer(client, headers, world, 6_000_00, "large-0001")
    assert done.status_code == 201, done.text
    # The same request again is the idempotent replay, not a second payment.
    assert _transfer(client, headers, world, 6_000_00, "large-0001").json()["id"] == done.json()["id"]
    # The grant is spent: another large transfer with it is challenged afresh.
    again = _transfer(client, headers, world, 6_000_00, "large-0002")
    assert again.status_code == 401


def test_a_grant_is_bound_to_the_amount_and_payee(client, world, auth):
    problem = _transfer(client, auth, world, 6_000_00, "bound-0001").json()
    headers = complete_step_up(client, auth, problem, phone=phone_for("mei"))
    more = _transfer(client, headers, world, 9_000_00, "bound-0002")
    assert more.status_code == 401, "a grant for 6,000 does not pay 9,000"
    assert _transfer(client, headers, world, 6_000_00, "bound-0003").status_code == 201


def test_a_challenge_completes_once_and_a_wrong_code_fails(client, world, auth):
    challenge = _transfer(client, auth, world, 6_000_00, "once-0001").json()["challenge"]
    client.post("/api/v1/auth/step-up/sms", json={"challenge": challenge}, headers=auth)
    wrong = client.post(
        "/api/v1/auth/step-up", json={"challenge": challenge, "method": "sms", "code": "000000"}, headers=auth
    )
    assert wrong.status_code == 401
    code = last_code(phone_for("mei"))
    ok = client.post(
        "/api/v1/auth/step-up", json={"challenge": challenge, "method": "sms", "code": code}, headers=auth
    )
    assert ok.status_code == 200
    replay = client.post(
        "/api/v1/auth/step-up", json={"challenge": challenge, "method": "sms", "code": code}, headers=auth
    )
    assert replay.status_code in (401, 409)


def test_another_customer_cannot_use_or_complete_my_challenge(client, world, auth):
    challenge = _transfer(client, auth, world, 6_000_00, "theft-0001").json()["challenge"]
    other = api_login(client, "lei", PASSWORD)
    r = client.post("/api/v1/auth/step-up/sms", json={"challenge": challenge}, headers=other)
    assert r.status_code == 401


def test_a_new_payee_needs_step_up(client, world, auth):
    body = {"type": "atrium", "account_number": world["target"].number, "account_name": "李雷"}
    r = client.post("/api/v1/payees", json=body, headers=auth)
    assert r.status_code == 401 and r.json()["type"].endswith("step-up-required")
    headers = complete_step_up(client, auth, r.json(), phone=phone_for("mei"))
    assert client.post("/api/v1/payees", json=body, headers=headers).status_code == 201


def test_raising_a_limit_needs_step_up_but_lowering_does_not(client, world, auth):
    lower = client.put(
        "/api/v1/limits/own/internal_transfer",
        json={"currency": "CNY", "per_transaction_minor": 1_000_00, "daily_minor": 2_000_00},
        headers=auth,
    )
    assert lower.status_code == 200, lower.text
    raise_ = client.put(
        "/api/v1/limits/own/internal_transfer",
        json={"currency": "CNY", "per_transaction_minor": 3_000_00, "daily_minor": 4_000_00},
        headers=auth,
    )
    assert raise_.status_code == 401
    headers = complete_step_up(client, auth, raise_.json(), phone=phone_for("mei"))
    again = client.put(
        "/api/v1/limits/own/internal_transfer",
        json={"currency": "CNY", "per_transaction_minor": 3_000_00, "daily_minor": 4_000_00},
        headers=headers,
    )
    assert again.status_code == 200 and again.json()["raised"] is True


@pytest.fixture()
def risky() -> Iterator[None]:
    remove = stepup.register_assessor(
        lambda session, principal, action, elements: (
            stepup.RiskOpinion(level=3, reasons=("new-geography",)) if action == "transfer" else None
        )
    )
    yield
    remove()


def test_a_risk_assessor_can_raise_the_level_of_a_small_transfer(client, world, auth, risky):
    r = _transfer(client, auth, world, 100_00, "risk-0001")
    assert r.status_code == 401 and r.json()["reasons"] == ["new-geography"]
    headers = complete_step_up(client, auth, r.json(), phone=phone_for("mei"))
    assert _transfer(client, headers, world, 100_00, "risk-0001").status_code == 201


def _last_sms_body() -> str:
    from atrium.db.runtime import get_db
    from atrium.notify import service as notify

    with get_db().read_session() as s:
        return notify.outbox(s, phone=phone_for("mei"), limit=1)[0].body
