"""Transfers through the risk decision, at the service: allow, review (held, then released or cancelled by
the analyst's verdict, through the events), deny (declined, nothing moved), the fail policy when the
decision cannot be had, and one decision per (customer, idempotency key)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from atrium.events.relay import relay_once
from atrium.limits import service as limits
from atrium.payments import service
from atrium.payments.schemas import AtriumDestination, ExternalDestination, OwnDestination
from atrium.risk import service as risk
from atrium.risk.domain import reasons
from atrium.risk.domain.events import RiskEvent
from tests.payments import factories as f
from tests.payments import risk_support as rs

pytestmark = pytest.mark.usefixtures("fresh_risk")


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def rich(db, world):  # type: ignore[no-untyped-def]
    """Alice with 50,000.00 CNY more, so the review threshold is in reach."""
    with db.unit_of_work() as s:
        f.fund(s, world.alice_cny, 5_000_000)
    return world


def pay(db, w, amount, *, key="risk-key-1", to=None):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.transfer(
            s, customer_id=w.alice, idempotency_key=key, from_account_id=w.alice_cny.id,
            to=to or AtriumDestination(type="atrium", account_number=w.bob_cny.number), amount_minor=amount,
            currency="CNY", channel="mobile",
        )


def used_today(db, customer_id: str) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        lines = limits.usage(s, customer_id, channel="mobile", currency="CNY")
    return next(line.daily_used_minor for line in lines if line.method == "internal_transfer")


def test_an_unremarkable_transfer_is_allowed_and_its_decision_names_it(db, world) -> None:
    t = pay(db, world, 30_000)
    assert t.status == "completed" and t.risk_reasons == []
    [decision] = rs.decisions(db, channel="transfer")
    assert (decision.outcome, decision.transfer_id, decision.customer_id) == ("allow", t.id, world.alice)
    assert rs.transfer_row(db, t.id).risk_decision_id == decision.id


def test_a_transfer_between_own_accounts_is_not_screened(db, world) -> None:
    t = pay(db, world, 1_000, to=OwnDestination(type="own", account_id=world.alice_savings.id))
    assert t.status == "completed"
    assert rs.decisions(db) == []


def test_a_block_listed_payee_is_declined_and_nothing_moves(db, rich) -> None:
    rs.block_payee(db, rs.atrium_payee(rich.bob_cny.number))
    before = f.snapshot(db, rich.ids())
    t = pay(db, rich, 30_000)
    assert t.status == "declined" and t.failure_code == "risk-declined"
    assert [r.code for r in t.risk_reasons] == ["list.block"]  # which list entry matched stays inside
    after = f.snapshot(db, rich.ids())
    assert after.balances == before.balances and after.transfers == before.transfers + 1
    assert used_today(db, rich.alice) == 0  # the limits never saw it
    assert f.events(db, "TransferCompleted") == []
    # The customer reads why, in either language, without learning which list or rule said so.
    for locale in ("en", "zh"):
        assert service.risk_texts(t.risk_reasons, locale) == [
            reasons.text("list.block.payee", locale, channel="transfer")]
    # The same request again: the same declined transfer, no second decision.
    again = pay(db, rich, 30_000)
    assert again.id == t.id and again.status == "declined"
    assert len(rs.decisions(db, channel="transfer")) == 1
    f.ledger_ok(db)


def test_a_review_holds_the_money_and_the_analysts_release_pays_it_once(db, rich) -> None:
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review", reason="behaviour.unusual_amount")
    t = pay(db, rich, 400_000)
    assert t.status == "held" and t.hold_id
    assert [r.code for r in t.risk_reasons] == ["behaviour.unusual_amount"]
    with db.read_session() as s:
        assert f.balance(s, rich.alice_cny.id) == (5_100_000, 4_700_000)  # set aside, not yet gone
        assert f.balance(s, rich.bob_cny.id) == (0, 0)
    assert [e["transfer_id"] for e in f.events(db, "TransferHeld")] == [t.id]
    assert used_today(db, rich.alice) == 400_000
    [decision] = rs.decisions(db, channel="transfer")
    case = rs.case_for(db, decision.id)
    assert case.held and case.status == "open"

    with db.unit_of_work() as s:
        risk.release_case(s, case.id, rs.CHECKER, note="customer confirmed by phone")
    relay_once(db)
    done = rs.transfer_row(db, t.id)
    assert done.status == "completed" and done.journal_id and done.settled_at is not None
    assert rs.hold_status(db, t.hold_id) == "posted"
    with db.read_session() as s:
        assert f.balance(s, rich.alice_cny.id) == (4_700_000, 4_700_000)
        assert f.balance(s, rich.bob_cny.id) == (400_000, 400_000)
    assert [e["transfer_id"] for e in f.events(db, "TransferCompleted")] == [t.id]
    # A second delivery of the verdict, or a direct second release, changes nothing.
    with db.unit_of_work() as s:
        assert service.release_held(s, t.id) is None
    relay_once(db)
    with db.read_session() as s:
        assert f.balance(s, rich.bob_cny.id) == (400_000, 400_000)
    f.ledger_ok(db)


def test_confirmed_fraud_on_a_held_transfer_voids_the_hold_and_gives_the_limit_back(db, rich) -> None:
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    t = pay(db, rich, 400_000)
    [decision] = rs.decisions(db, channel="transfer")
    with db.unit_of_work() as s:
        risk.confirm_fraud(s, rs.case_for(db, decision.id).id, rs.CHECKER, note="mule account")
    relay_once(db)
    done = rs.transfer_row(db, t.id)
    assert (done.status, done.failure_code) == ("cancelled", "risk-rejected")
    assert rs.hold_status(db, t.hold_id) == "voided"  # type: ignore[arg-type]
    with db.read_session() as s:
        assert f.balance(s, rich.alice_cny.id) == (5_100_000, 5_100_000)
        assert f.balance(s, rich.bob_cny.id) == (0, 0)
    assert used_today(db, rich.alice) == 0
    assert f.events(db, "TransferCompleted") == []
    f.ledger_ok(db)


def test_a_challenge_with_nobody_to_answer_it_is_held_for_review(db, rich) -> None:
    """`principal` None (the bank acting on an earlier mandate) cannot be asked "was this you?"."""
    rs.publish_rule(db, "new_payee", rs.CHALLENGE_NEW_PAYEE, "challenge", reason="behaviour.new_payee")
    t = pay(db, rich, 200_000)
    assert t.status == "held" and [r.code for r in t.risk_reasons] == ["behaviour.new_payee"]
    [decision] = rs.decisions(db, channel="transfer")
    assert decision.outcome == "challenge"
    # The payee is known now: the next payment to it is not challenged.
    assert pay(db, rich, 200_000, key="risk-key-2").status == "completed"


def test_an_idempotent_retry_gets_the_first_decision_even_after_the_rules_change(db, rich) -> None:
    rule = rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    first = pay(db, rich, 400_000)
    with db.unit_of_work() as s:
        risk.retire_rule(s, "large_amount", rs.CHECKER, reason="too many false positives")
    again = pay(db, rich, 400_000)
    assert (again.id, again.status) == (first.id, "held") and rule
    assert len(rs.decisions(db, channel="transfer")) == 1
    assert rs.transfers_count(db) == 1


class _SlowEngine:
    def decide(self, event: RiskEvent, now: float | None = None):  # type: ignore[no-untyped-def]
        time.sleep(10 * rs.TIGHT_MS / 1000)  # far beyond the channel's budget
        raise AssertionError("a late engine's answer must not be used")


def test_a_timed_out_decision_follows_the_channels_fail_policy(db, rich, monkeypatch) -> None:
    """The transfer channel fails to "challenge"; with nobody to challenge, the payment is held."""
    rs.budget(monkeypatch, rs.TIGHT_MS)
    assert risk.channel_policies()["transfer"].on_timeout == "challenge"
    with risk.engine_override(_SlowEngine()):
        t = pay(db, rich, 30_000)
    assert t.status == "held" and [r.code for r in t.risk_reasons] == ["risk.unavailable"]
    [decision] = rs.decisions(db, channel="transfer")
    assert decision.fallback and decision.outcome == "challenge"


def test_a_failing_risk_service_applies_the_fail_policy_at_the_payment(db, rich, monkeypatch) -> None:
    """Even the service failing outright (not just the engine) must not fail the payment: the channel's
    policy decides, and the payment's own transaction stays usable."""

    def broken(session, event):  # type: ignore[no-untyped-def]
        raise RuntimeError("risk database unreachable")

    monkeypatch.setattr(risk, "screen", broken)
    t = pay(db, rich, 30_000)
    assert t.status == "held" and [r.code for r in t.risk_reasons] == ["risk.unavailable"]
    assert rs.transfer_row(db, t.id).risk_decision_id is None
    f.ledger_ok(db)


def _to_other_bank(db, w, amount, key):  # type: ignore[no-untyped-def]
    return pay(db, w, amount, key=key, to=ExternalDestination(type="external", bank_code="HCBK",
                                                               account_number="6230000000001234",
                                                               account_name="Li Lei"))


def test_a_held_interbank_transfer_goes_to_the_rail_only_once_released(db, rich, rail) -> None:
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    t = _to_other_bank(db, rich, 400_000, "risk-ib-1")
    assert (t.kind, t.status) == ("interbank", "held") and t.hold_id
    assert service.process_rail(db, rail).submitted == 0  # nothing leaves the bank while it is held
    [decision] = rs.decisions(db, channel="transfer")
    with db.unit_of_work() as s:
        risk.release_case(s, rs.case_for(db, decision.id).id, rs.CHECKER)
    relay_once(db)
    assert rs.transfer_row(db, t.id).status == "pending"
    assert [e["transfer_id"] for e in f.events(db, "TransferInitiated")] == [t.id]
    report = service.process_rail(db, rail)
    assert (report.submitted, report.settled) == (1, 1)
    assert rs.transfer_row(db, t.id).status == "settled"
    with db.read_session() as s:
        assert f.balance(s, rich.alice_cny.id) == (4_700_000, 4_700_000)
    f.ledger_ok(db)


def test_a_held_interbank_transfer_confirmed_as_fraud_never_reaches_the_rail(db, rich, rail) -> None:
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    t = _to_other_bank(db, rich, 400_000, "risk-ib-2")
    [decision] = rs.decisions(db, channel="transfer")
    with db.unit_of_work() as s:
        risk.confirm_fraud(s, rs.case_for(db, decision.id).id, rs.CHECKER)
    relay_once(db)
    assert rs.transfer_row(db, t.id).status == "cancelled"
    assert service.process_rail(db, rail).submitted == 0
    with db.read_session() as s:
        assert f.balance(s, rich.alice_cny.id) == (5_100_000, 5_100_000)
        assert f.internal_balance(s, "bank:clearing:CNY") == 0
    f.ledger_ok(db)
