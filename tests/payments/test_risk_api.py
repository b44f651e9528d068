"""/api/v1 transfers and QR payments answer the risk decision as problems and statuses: challenge → the
401 step-up challenge with the reason codes; review → 202 `held`; deny → 403 `payment-declined` with codes
and texts. A challenge completed once lets exactly one payment through."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from atrium.ledger.models import Journal
from atrium.risk import service as risk
from atrium.risk.domain import reasons
from atrium.risk.domain.events import RiskEvent
from tests.auth_support import api_login, complete_step_up, phone_for
from tests.payments import factories as f
from tests.payments import risk_support as rs

pytestmark = pytest.mark.usefixtures("fresh_risk")
_keys = itertools.count(1)


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def alice(client, db, world):  # type: ignore[no-untyped-def]
    from atrium.identity import service as identity

    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 5_000_000)
        username = identity.get_customer(s, world.alice).username  # type: ignore[union-attr]
    return {"headers": api_login(client, username, f.PASSWORD), "phone": phone_for(username)}


def body(w, amount: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {"from_account_id": w.alice_cny.id, "to": {"type": "atrium", "account_number": w.bob_cny.number},
            "amount_minor": amount, "currency": "CNY", "memo": "rent"}


def post(client, headers, w, amount, key=None):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/transfers", json=body(w, amount),
                       headers=headers | {"Idempotency-Key": key or f"risk-api-{next(_keys):04}"})


def journals(db) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Journal)) or 0)


def test_a_challenge_is_the_step_up_with_reasons_and_lets_exactly_one_payment_through(client, db, world,
                                                                                     alice) -> None:
    rs.publish_rule(db, "new_payee", rs.CHALLENGE_NEW_PAYEE, "challenge", reason="behaviour.new_payee")
    headers, key = alice["headers"], "risk-api-challenge"
    first = post(client, headers, world, 200_000, key)
    assert first.status_code == 401, first.text
    problem = first.json()
    assert problem["type"].endswith("/step-up-required") and problem["reasons"] == ["behaviour.new_payee"]
    assert problem["level"] == 3  # a grant bound to payee, amount and currency, below the large threshold
    assert rs.transfers_count(db) == 0
    before = journals(db)

    stepped = complete_step_up(client, headers, problem, phone=alice["phone"])
    paid = post(client, stepped, world, 200_000, key)
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "completed"
    # The same request again (a double submit), with or without the spent challenge: the first answer.
    again = post(client, stepped, world, 200_000, key)
    assert again.status_code == 201 and again.json()["id"] == paid.json()["id"]
    assert rs.transfers_count(db) == 1 and journals(db) == before + 1
    # One decision, the challenge, recorded as passed and naming the transfer it let through.
    [decision] = rs.decisions(db, channel="transfer")
    assert decision.outcome == "challenge" and decision.transfer_id == paid.json()["id"]
    assert decision.challenge_result == "passed"
    with db.read_session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 200_000


def test_a_spent_challenge_does_not_pay_for_a_second_transfer(client, db, world, alice) -> None:
    """Exactly once: the grant is consumed by the payment it was made for."""
    rs.publish_rule(db, "always", "amount > 1000", "challenge", reason="behaviour.unusual_amount")
    headers = alice["headers"]
    first = post(client, headers, world, 200_000, "once-key-1")
    stepped = complete_step_up(client, headers, first.json(), phone=alice["phone"])
    assert post(client, stepped, world, 200_000, "once-key-1").status_code == 201
    second = post(client, stepped, world, 200_000, "once-key-2")
    assert second.status_code == 401 and second.json()["reasons"] == ["behaviour.unusual_amount"]
    assert rs.transfers_count(db) == 1
    with db.read_session() as s:
        assert f.balance(s, world.bob_cny.id)[0] == 200_000
    f.ledger_ok(db)


def test_a_review_answers_202_held(client, db, world, alice) -> None:
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    r = post(client, alice["headers"], world, 400_000, "held-key-1")
    assert r.status_code == 202, r.text
    held = r.json()
    assert held["status"] == "held"
    assert held["risk_reasons"][0]["code"] == "rule.triggered"  # the rule's own key stays inside
    again = post(client, alice["headers"], world, 400_000, "held-key-1")
    assert again.status_code == 202 and again.json() == held
    listed = client.get("/api/v1/transfers?status=held", headers=alice["headers"]).json()
    assert [t["id"] for t in listed["items"]] == [held["id"]]


def test_a_deny_answers_403_with_reasons_a_customer_can_read(client, db, world, alice) -> None:
    rs.block_payee(db, rs.atrium_payee(world.bob_cny.number))
    r = post(client, alice["headers"], world, 30_000, "denied-key-1")
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/payment-declined") and problem["reasons"] == ["list.block"]
    assert problem["messages"] == {loc: reasons.text("list.block.payee", loc, channel="transfer")
                                   for loc in ("zh", "en")}
    assert "ATRM" not in str(problem) and world.bob_cny.number not in str(problem)  # no list, no payee
    # Kept: the retry answers the same, and the history shows the declined attempt.
    again = post(client, alice["headers"], world, 30_000, "denied-key-1")
    assert again.status_code == 403 and again.json()["transfer_id"] == problem["transfer_id"]
    listed = client.get("/api/v1/transfers", headers=alice["headers"]).json()["items"]
    assert [(t["id"], t["status"]) for t in listed] == [(problem["transfer_id"], "declined")]
    with db.read_session() as s:
        assert f.balance(s, world.bob_cny.id) == (0, 0)


class _SlowEngine:
    def decide(self, event: RiskEvent, now: float | None = None):  # type: ignore[no-untyped-def]
        time.sleep(10 * rs.TIGHT_MS / 1000)
        raise AssertionError("too late")


def test_a_timed_out_decision_asks_the_present_customer_for_a_step_up(client, db, world, alice,
                                                                      monkeypatch) -> None:
    """The transfer channel's fail policy is "challenge": the customer confirms, and nothing is blocked."""
    rs.budget(monkeypatch, rs.TIGHT_MS)
    with risk.engine_override(_SlowEngine()):
        r = post(client, alice["headers"], world, 30_000, "timeout-key-1")
    assert r.status_code == 401 and r.json()["reasons"] == ["risk.unavailable"]
    stepped = complete_step_up(client, alice["headers"], r.json(), phone=alice["phone"])
    done = post(client, stepped, world, 30_000, "timeout-key-1")
    assert done.status_code == 201 and done.json()["status"] == "completed"
