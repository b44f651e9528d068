"""/api/v1/qr/pay and the security checks, as for transfers: a challenge is the 401 step-up with the reason
codes (the customer present answers it; the decision sees their IP), after which the same request pays
once; a review is 202 `held`; a deny is 403 `payment-declined`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atrium.identity import service as identity
from tests.auth_support import api_login, complete_step_up, phone_for
from tests.payments import factories as f
from tests.payments import risk_support as rs
from tests.payments.qr.conftest import issue

pytestmark = pytest.mark.usefixtures("fresh_risk")


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def alice(client, db, world):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        username = identity.get_customer(s, world.alice).username  # type: ignore[union-attr]
    return {"headers": api_login(client, username, f.PASSWORD), "phone": phone_for(username)}


def pay(client, headers, payload: str, account_id: str, key: str = "qr-risk-0001"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/qr/pay",
        json={"payload": payload, "from_account_id": account_id},
        headers=headers | {"Idempotency-Key": key},
    )


def test_a_challenged_qr_payment_is_a_step_up_then_pays_once(client, db, world, shop, alice) -> None:
    rs.publish_rule(db, "qr_over_ten", "amount > 10", "challenge", reason="behaviour.unusual_amount")
    payload = issue(db, shop.id)
    first = pay(client, alice["headers"], payload, world.alice_cny.id)
    assert first.status_code == 401, first.text
    assert first.json()["reasons"] == ["behaviour.unusual_amount"]
    stepped = complete_step_up(client, alice["headers"], first.json(), phone=alice["phone"])
    paid = pay(client, stepped, payload, world.alice_cny.id)
    assert paid.status_code == 201 and paid.json()["status"] == "completed", paid.text
    [decision] = rs.decisions(db, channel="qr")
    assert (decision.outcome, decision.challenge_result) == ("challenge", "passed")
    assert decision.ip is not None and decision.terminal == shop.id


def test_a_held_qr_payment_is_202_and_a_declined_one_403(client, db, world, shop, alice) -> None:
    rs.publish_rule(db, "qr_review", "amount > 10 and amount < 100", "review")
    rs.publish_rule(db, "qr_deny", "amount >= 100", "deny")
    held = pay(client, alice["headers"], issue(db, shop.id, amount=5_000), world.alice_cny.id)
    assert held.status_code == 202 and held.json()["status"] == "held", held.text
    declined = pay(
        client,
        alice["headers"],
        issue(db, shop.id, amount=50_000, reference="order-2"),
        world.alice_cny.id,
        key="qr-risk-0002",
    )
    assert declined.status_code == 403 and declined.json()["type"].endswith("/payment-declined")
