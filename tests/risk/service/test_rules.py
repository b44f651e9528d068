"""Rules under maker-checker: compiled before they are stored, acting only once a second person approved
them, versioned, shadowed, retired — and backtested on the feature log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.kit import clock
from atrium.risk import service
from atrium.risk.errors import RuleNotPending, RuleSyntaxError, SelfApproval
from atrium.risk.schemas import RuleCreate
from tests.risk.service.factories import CHECKER, MAKER, event, publish_rule


def rule(expression: str = "amount > 100", action: str = "review", **fields: object) -> RuleCreate:
    return RuleCreate(key=fields.pop("key", "big"), expression=expression, action=action, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("expression", "fragment"), [
    ("amout > 100", "amount"),
    ("__import__('os').system('id')", ""),
    ("amount > (1", ""),
])
def test_a_malformed_rule_is_refused_with_its_message_and_position(s, expression, fragment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleSyntaxError) as error:
        service.propose_rule(s, MAKER, rule(expression))
    assert error.value.status == 422 and isinstance(error.value.position, int)
    assert fragment in error.value.message
    assert service.list_rules(s) == []


def test_a_rule_published_without_approval_never_acts(s) -> None:  # type: ignore[no-untyped-def]
    proposal = service.propose_rule(s, MAKER, rule(action="deny", mode="live"))
    assert proposal.status == "proposed"
    assert service.screen(s, event(amount_minor=50_000)).outcome == "allow"
    with pytest.raises(SelfApproval) as error:
        service.approve_rule(s, proposal.id, MAKER)
    assert error.value.status == 403
    assert service.screen(s, event(amount_minor=50_000)).outcome == "allow"
    published = service.approve_rule(s, proposal.id, CHECKER)
    assert (published.status, published.author, published.approver) == ("published", MAKER, CHECKER)
    assert service.screen(s, event(amount_minor=50_000)).outcome == "deny"


def test_the_published_version_acts_until_the_new_one_is_approved(s) -> None:  # type: ignore[no-untyped-def]
    v1 = publish_rule(s, "amount > 100", "review", key="big")
    v2 = service.propose_rule(s, MAKER, rule("amount > 100", "deny", key="big", mode="live"))
    assert v2.version == 2
    assert service.screen(s, event(amount_minor=50_000)).outcome == "review"
    service.approve_rule(s, v2.id, CHECKER)
    assert service.screen(s, event(amount_minor=50_000)).outcome == "deny"
    versions = [(r.version, r.status) for r in service.rule_versions(s, "big")]
    assert versions == [(2, "published"), (1, "retired")]
    assert service.get_rule(s, v1.id).decision_note == "replaced by version 2"


def test_shadow_rules_are_recorded_and_never_act(s) -> None:  # type: ignore[no-untyped-def]
    publish_rule(s, "amount > 100", "deny", key="shadowed", mode="shadow")
    decision = service.screen(s, event(amount_minor=50_000))
    assert decision.outcome == "allow"
    assert [h["key"] for h in service.get_decision(s, decision.id).shadow_hits] == ["shadowed"]
    live = service.set_rule_mode(s, "shadowed", "live", MAKER)
    assert (live.version, live.mode, live.status) == (2, "live", "proposed")
    assert service.screen(s, event(amount_minor=50_000)).outcome == "allow"  # still shadow until approved
    service.approve_rule(s, live.id, CHECKER)
    assert service.screen(s, event(amount_minor=50_000)).outcome == "deny"


def test_rejected_superseded_and_retired_rules(s) -> None:  # type: ignore[no-untyped-def]
    first = service.propose_rule(s, MAKER, rule(key="k"))
    second = service.propose_rule(s, MAKER, rule("amount > 200", key="k"))
    assert service.get_rule(s, first.id).status == "rejected"  # superseded: nobody approves stale text
    rejected = service.reject_rule(s, second.id, CHECKER, "too broad")
    assert (rejected.status, rejected.decision_note) == ("rejected", "too broad")
    with pytest.raises(RuleNotPending):
        service.approve_rule(s, second.id, CHECKER)
    publish_rule(s, "amount > 100", "deny", key="k")
    assert service.screen(s, event(amount_minor=50_000)).outcome == "deny"
    service.retire_rule(s, "k", CHECKER, "campaign over")
    assert service.screen(s, event(amount_minor=50_000)).outcome == "allow"
    assert "amount" in service.rule_vocabulary()


def test_a_backtest_counts_what_a_rule_would_have_caught_and_changed(s, frozen) -> None:  # type: ignore[no-untyped-def]
    start = clock.now()
    ids = {}
    for i, amount in enumerate([5_000, 80_000, 90_000, 95_000, 7_000]):
        frozen.set(start + timedelta(minutes=i))
        ids[i] = service.screen(s, event(amount_minor=amount, customer_id=f"cust_{i}")).id
    s.commit()
    frozen.set(start + timedelta(days=1))
    service.label(s, ids[1], True, "chargeback")
    service.label(s, ids[4], True, "chargeback")
    result = service.backtest(s, "amount > 500", start, start + timedelta(hours=1), action="review")
    assert (result.evaluated, result.fired, result.frauds, result.fraud_caught) == (5, 3, 2, 1)
    assert (result.precision, result.recall) == (round(1 / 3, 4), 0.5)
    assert result.changed == {"allow->review": 3}
    assert set(result.examples) == {ids[1], ids[2], ids[3]}
    before_labels = service.backtest(s, "amount > 500", start, start + timedelta(hours=1), as_of=start)
    assert before_labels.frauds == 0 and before_labels.precision == 0.0
    with pytest.raises(RuleSyntaxError):
        service.backtest(s, "amount >", start, start + timedelta(hours=1))
