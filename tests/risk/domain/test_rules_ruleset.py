"""Rules as data: validation of a rule's fields, live vs shadow, and evaluation that never raises."""

from __future__ import annotations

import math

import pytest

from atrium.risk.domain.rules import (
    EMPTY_EVALUATION,
    Rule,
    RuleDefinitionError,
    RuleSet,
    RuleSyntaxError,
    make_vocabulary,
)

pytestmark = pytest.mark.database_independent

VOCAB = make_vocabulary(numbers=["customer_count_1h", "customer_amount_mean_30d", "payee_new_for_customer"])
ENV = {"amount": 900.0, "customer_count_1h": 4.0, "customer_amount_mean_30d": 100.0,
       "payee_new_for_customer": 1.0, "channel": "transfer", "currency": "CNY", "hour_of_day": 2.0}


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"key": "Big"}, "rule key"),
        ({"key": "9lives"}, "rule key"),
        ({"key": "a" * 65}, "rule key"),
        ({"key": "x y"}, "rule key"),
        ({"version": 0}, "positive integer"),
        ({"version": True}, "positive integer"),
        ({"action": "block"}, "rule action 'block' must be one of allow, challenge, review, deny, score"),
        ({"mode": "draft"}, "rule mode 'draft' must be one of live, shadow"),
        ({"weight": math.inf}, "finite number"),
        ({"weight": math.nan}, "finite number"),
        ({"weight": "0.2"}, "finite number"),
        ({"weight": 1.5}, "outside [-1, 1]"),
        ({"reason": "r" * 101}, "at most 100 characters"),
    ],
)
def test_rule_fields_are_validated(fields: dict[str, object], fragment: str) -> None:
    base: dict[str, object] = {"key": "big_amount", "version": 1, "expression": "amount > 1",
                               "action": "review", "weight": 0.2, "reason": "", "mode": "live"}
    with pytest.raises(RuleDefinitionError) as caught:
        Rule(**{**base, **fields})  # type: ignore[arg-type]
    assert fragment in caught.value.detail
    assert caught.value.status == 422


def test_reason_code_defaults_to_the_rule_key() -> None:
    assert Rule("big_amount", 1, "amount > 1", "review").reason_code == "rule.big_amount"
    assert Rule("big_amount", 1, "amount > 1", "review", reason="behaviour.unusual_amount").reason_code == (
        "behaviour.unusual_amount"
    )


def test_live_and_shadow_hits_are_separated_and_errors_recorded() -> None:
    rules = RuleSet([
        Rule("big_vs_mean", 3, "amount > 5 * customer_amount_mean_30d and payee_new_for_customer", "review",
             0.3, "behaviour.unusual_amount"),
        Rule("velocity", 1, "customer_count_1h >= 4", "score", 0.1),
        Rule("night_new_payee", 2, "hour_of_day in [0, 1, 2, 3] and payee_new_for_customer", "deny", 0.5,
             mode="shadow"),
        Rule("small", 1, "amount < 10", "challenge", 0.2),
        Rule("per_tx", 1, "amount / (customer_count_1h - 4) > 1", "score", 0.1),
        Rule("needs_missing", 1, "customer_amount_mean_30d > 0 and payee_new_for_customer", "score", 0.1,
             mode="shadow"),
    ], VOCAB)
    result = rules.evaluate(ENV)
    assert [(h.key, h.version, h.action, h.weight, h.reason, h.mode) for h in result.live_hits] == [
        ("big_vs_mean", 3, "review", 0.3, "behaviour.unusual_amount", "live"),
        ("velocity", 1, "score", 0.1, "rule.velocity", "live"),
    ]
    assert [h.key for h in result.shadow_hits] == ["night_new_payee", "needs_missing"]
    assert [(e.key, e.message) for e in result.errors] == [("per_tx", "division by zero")]

    missing = rules.evaluate({k: v for k, v in ENV.items() if k != "payee_new_for_customer"})
    assert {e.key for e in missing.errors} == {"big_vs_mean", "night_new_payee", "needs_missing", "per_tx"}
    assert "missing value for 'payee_new_for_customer'" in {e.message for e in missing.errors}


def test_a_nan_feature_means_the_rule_does_not_apply() -> None:
    not_big = Rule("not_big", 1, "not (amount > 5 * customer_amount_mean_30d)", "challenge", 0.2)
    rules = RuleSet([not_big], VOCAB)
    result = rules.evaluate({**ENV, "customer_amount_mean_30d": math.nan})
    assert result.live_hits == () and result.errors == ()
    assert result.not_applicable == ("not_big",)


def test_nothing_fired_gives_the_shared_empty_evaluation() -> None:
    rules = RuleSet([Rule("small", 1, "amount < 10", "challenge", 0.2)], VOCAB)
    assert rules.evaluate(ENV) is EMPTY_EVALUATION
    assert RuleSet([], VOCAB).evaluate(ENV) is EMPTY_EVALUATION


def test_a_broken_rule_raises_naming_it_or_is_set_aside_when_not_strict() -> None:
    rules = [Rule("good", 1, "amount > 1", "score", 0.1), Rule("gone", 4, "renamed_feature > 1", "deny", 0.5)]
    with pytest.raises(RuleSyntaxError, match="rule gone v4: unknown feature 'renamed_feature' at 0"):
        RuleSet(rules, VOCAB)
    lenient = RuleSet(rules, VOCAB, strict=False)
    assert [b.key for b in lenient.broken] == ["gone"]
    result = lenient.evaluate(ENV)
    assert [h.key for h in result.live_hits] == ["good"]
    assert [(e.key, e.version) for e in result.errors] == [("gone", 4)]
    assert result.errors[0].message.startswith("does not compile: unknown feature")


def test_the_same_key_and_version_twice_is_refused() -> None:
    with pytest.raises(RuleDefinitionError, match="at most once"):
        RuleSet([Rule("a", 1, "amount > 1", "score"), Rule("a", 1, "amount > 2", "score")], VOCAB)
    two_versions = [Rule("a", 1, "amount > 1", "score"), Rule("a", 2, "amount > 2", "score")]
    assert len(RuleSet(two_versions, VOCAB)) == 2


def test_hits_and_errors_serialise_for_the_decision_log() -> None:
    rules = RuleSet([Rule("r", 1, "amount > 1", "review", 0.25),
                     Rule("z", 1, "amount / (customer_count_1h - 4) > 1", "score", mode="shadow")], VOCAB)
    result = rules.evaluate(ENV)
    assert result.live_hits[0].to_dict() == {"key": "r", "version": 1, "action": "review", "weight": 0.25,
                                             "reason": "rule.r", "mode": "live"}
    assert result.errors[0].to_dict() == {"key": "z", "version": 1, "mode": "shadow",
                                          "message": "division by zero"}
