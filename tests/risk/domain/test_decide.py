"""Combining list hits, rules and the model's score under a channel's policy."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.risk.domain.decide import (
    DEFAULT_POLICIES,
    MAX_REASONS,
    OUTCOME_RANK,
    OUTCOMES,
    ChannelPolicy,
    Decision,
    InvalidPolicy,
    combine,
    fallback,
    policy_for,
    stricter,
)
from atrium.risk.domain.events import CHANNELS, RiskEvent
from atrium.risk.domain.lists import ListHit
from atrium.risk.domain.reasons import Reason, analyst_text, customer_text
from atrium.risk.domain.rules import RuleError, RuleEvaluation, RuleHit

pytestmark = pytest.mark.database_independent

EVENT = RiskEvent("t1", at=0.0, channel="transfer", amount_minor=50_000, customer="c1", payee="p1")
POLICY = ChannelPolicy(challenge_at=0.3, review_at=0.6, deny_at=0.9, on_timeout="challenge", timeout_ms=50,
                       watch_weight=0.1)
FEATURES = {"amount": 500.0, "customer_amount_ratio_30d": 6.2}
NO_RULES = RuleEvaluation()


def hit(key: str, action: str, weight: float = 0.0, mode: str = "live", reason: str = "") -> RuleHit:
    return RuleHit(key, 1, action, weight, reason or f"rule.{key}", mode)


def entry(list_kind: str, subject: str = "card", entry_id: str = "rsk_e1") -> ListHit:
    return ListHit(list_kind, subject, entry_id, "opaque-key")


def decide(*, lists: list[ListHit] | None = None, rules: RuleEvaluation = NO_RULES,
           model: float | None = None, challenger: float | None = None, policy: ChannelPolicy = POLICY,
           factors=()) -> Decision:
    return combine(event=EVENT, features=FEATURES, list_hits=lists or [], rule_eval=rules,
                   model_score=model, challenger_score=challenger, policy=policy, model_factors=factors)


def test_outcomes_are_ordered() -> None:
    assert OUTCOMES == ("allow", "challenge", "review", "deny")
    assert stricter("review", "challenge") == "review" and stricter("allow", "deny") == "deny"


@pytest.mark.parametrize(("model", "outcome"), [(None, "allow"), (0.0, "allow"), (0.29, "allow"),
                                                (0.3, "challenge"), (0.6, "review"), (0.89, "review"),
                                                (0.9, "deny"), (1.0, "deny")])
def test_the_model_score_maps_through_the_thresholds(model: float | None, outcome: str) -> None:
    decision = decide(model=model)
    assert decision.outcome == outcome
    assert decision.score == (model or 0.0)


def test_score_adds_rule_and_watch_weights_and_is_clamped() -> None:
    rules = RuleEvaluation(live_hits=(hit("a", "score", 0.2), hit("b", "score", 0.15)))
    decision = decide(model=0.1, rules=rules, lists=[entry("watch", "ip")])
    assert decision.score == pytest.approx(0.55)
    assert decision.outcome == "challenge"
    assert decide(model=0.9, rules=RuleEvaluation(live_hits=(hit("a", "score", 0.5),))).score == 1.0
    assert decide(model=0.1, rules=RuleEvaluation(live_hits=(hit("a", "score", -0.5),))).score == 0.0


def test_a_block_hit_denies_and_says_which_subject() -> None:
    decision = decide(lists=[entry("block", "device", "rsk_b1")], model=0.0)
    assert decision.outcome == "deny"
    assert decision.reasons[0] == Reason("list.block.device", {"entry": "rsk_b1"})
    assert "黑名单" in analyst_text(decision.reasons[0], "zh")
    assert "rsk_b1" in analyst_text(decision.reasons[0])
    assert "device" not in customer_text(decision.reasons[0], "en")  # the customer is not told which list


def test_an_allow_pair_wins_over_rules_and_model_but_not_over_a_block() -> None:
    rules = RuleEvaluation(live_hits=(hit("deny_big", "deny", 0.5),))
    allowed = decide(lists=[entry("allow", "pair")], rules=rules, model=0.99)
    assert allowed.outcome == "allow"
    assert allowed.reasons[0].code == "list.allow.pair"
    assert allowed.rule_hits == rules.live_hits  # recorded all the same
    blocked = decide(lists=[entry("block", "payee"), entry("allow", "pair")], rules=rules, model=0.0)
    assert blocked.outcome == "deny"
    assert [r.code for r in blocked.reasons][:1] == ["list.block.payee"]
    assert "list.allow.pair" not in blocked.reason_codes


def test_rule_actions_raise_the_outcome_to_at_least_their_action() -> None:
    assert decide(model=0.0, rules=RuleEvaluation(live_hits=(hit("r", "review"),))).outcome == "review"
    assert decide(model=0.95, rules=RuleEvaluation(live_hits=(hit("c", "challenge"),))).outcome == "deny"
    both = RuleEvaluation(live_hits=(hit("c", "challenge", 0.1), hit("d", "deny", 0.1)))
    decision = decide(model=0.0, rules=both)
    assert decision.outcome == "deny"
    assert decision.reason_codes[:2] == ("rule.d", "rule.c")


def test_an_allow_rule_waives_the_score_but_not_a_stricter_rule_or_a_block() -> None:
    allow = hit("known_good", "allow", -0.1)
    assert decide(model=0.95, rules=RuleEvaluation(live_hits=(allow,))).outcome == "allow"
    with_review = RuleEvaluation(live_hits=(allow, hit("r", "review")))
    assert decide(model=0.95, rules=with_review).outcome == "review"
    blocked = decide(model=0.0, rules=RuleEvaluation(live_hits=(allow,)), lists=[entry("block")])
    assert blocked.outcome == "deny"


def test_watch_hits_add_their_weight_and_a_reason() -> None:
    decision = decide(model=0.25, lists=[entry("watch", "ip", "rsk_w")])
    assert decision.score == pytest.approx(0.35)
    assert decision.outcome == "challenge"
    assert Reason("list.watch.ip", {"entry": "rsk_w", "weight": 0.1}) in decision.reasons


def test_the_model_reason_names_its_top_factor_for_the_analyst_only() -> None:
    decision = decide(model=0.91, factors=[("customer_amount_ratio_30d", 1.7), ("amount", 0.3)])
    reason = next(r for r in decision.reasons if r.code == "model.high_score")
    assert reason.params == {"score": 0.91, "feature": "customer_amount_ratio_30d", "contribution": 1.7,
                             "value": 6.2}
    assert analyst_text(reason, "en") == (
        "Model score 0.91; top factor: amount 6.2× the customer's 30-day mean"
    )
    assert customer_text(reason, "zh", channel="transfer") == "这笔转账与您平时的习惯不同。"
    assert customer_text(reason, "en") == "This payment is unlike your usual ones."
    assert decision.reason_codes[-1] == "score.threshold"


def test_reasons_are_unique_ordered_and_at_most_five() -> None:
    rules = RuleEvaluation(live_hits=tuple(hit(f"r{i}", "score", 0.05 * i) for i in range(1, 5))
                           + (hit("same1", "review", reason="behaviour.velocity"),
                              hit("same2", "challenge", reason="behaviour.velocity")))
    decision = decide(model=0.5, rules=rules, lists=[entry("watch", "ip"), entry("watch", "device")])
    codes = decision.reason_codes
    assert len(codes) == MAX_REASONS == len(set(codes))
    assert codes[0] == "behaviour.velocity"  # the review rule: an explicit action comes first
    assert decision.reasons[0].params["rule"] == "same1"
    assert codes[1] == "model.high_score"  # then contributions by size: 0.5 > 0.2 > 0.15 ...
    assert codes[2:4] == ("rule.r4", "rule.r3")


def test_shadow_hits_challenger_and_errors_are_recorded_without_acting() -> None:
    shadow = (hit("s", "deny", 0.9, mode="shadow"),)
    errors = (RuleError("e", 1, "live", "division by zero"),)
    decision = decide(model=0.1, challenger=0.99, rules=RuleEvaluation(shadow_hits=shadow, errors=errors))
    assert decision.outcome == "allow" and decision.score == pytest.approx(0.1)
    assert decision.shadow_hits == shadow and decision.rule_errors == errors
    assert decision.challenger_score == 0.99 and decision.reasons == ()


def test_model_scores_outside_zero_one_are_clamped_and_nan_is_no_score() -> None:
    assert decide(model=1.7).model_score == 1.0
    assert decide(model=-0.2).model_score == 0.0
    nan = decide(model=float("nan"))
    assert nan.model_score is None and nan.score == 0.0 and nan.outcome == "allow"


def test_a_decision_serialises_and_takes_timings() -> None:
    rules = RuleEvaluation(live_hits=(hit("r", "score", 0.1),))
    decision = decide(model=0.7, lists=[entry("watch")], rules=rules)
    timed = decision.with_timings({"features": 120, "total": 450})
    assert timed.timings == {"features": 120, "total": 450} and decision.timings == {}
    data = json.loads(json.dumps(timed.to_dict()))
    assert data["outcome"] == "review" and data["features"] == FEATURES
    assert data["reasons"][0]["code"] == "model.high_score"
    assert data["list_hits"][0]["subject_kind"] == "card"


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_has_a_default_policy_and_a_fallback(channel: str) -> None:
    policy = DEFAULT_POLICIES[channel]
    assert policy_for(channel) is policy
    decision = fallback(policy)
    assert decision.outcome == policy.on_timeout and decision.fallback
    expected = Reason("risk.unavailable", {"policy": policy.on_timeout, "cause": "timeout"})
    assert decision.reasons == (expected,)
    assert customer_text(decision.reasons[0], "en")
    assert analyst_text(decision.reasons[0], "en").startswith("Risk engine unavailable (timeout)")


def test_fail_policies_are_open_for_cards_and_closed_to_a_challenge_for_money_and_accounts() -> None:
    assert DEFAULT_POLICIES["card"].on_timeout == "allow"
    for channel in ("transfer", "qr", "login", "device", "payee"):
        assert DEFAULT_POLICIES[channel].on_timeout == "challenge"
    custom = {"card": ChannelPolicy(0.4, 0.7, 0.9, on_timeout="review", timeout_ms=10)}
    assert policy_for("card", custom).on_timeout == "review"
    assert policy_for("unknown").on_timeout == "review"
    assert fallback(custom["card"], cause="error").reasons[0].params["cause"] == "error"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"challenge_at": 0.0, "review_at": 0.5, "deny_at": 0.9},
        {"challenge_at": 0.6, "review_at": 0.5, "deny_at": 0.9},
        {"challenge_at": 0.3, "review_at": 0.5, "deny_at": 0.4},
        {"challenge_at": 0.3, "review_at": 0.5, "deny_at": float("nan")},
        {"challenge_at": 0.3, "review_at": 0.5, "deny_at": 0.9, "on_timeout": "maybe"},
        {"challenge_at": 0.3, "review_at": 0.5, "deny_at": 0.9, "timeout_ms": 0},
        {"challenge_at": 0.3, "review_at": 0.5, "deny_at": 0.9, "watch_weight": 2.0},
    ],
)
def test_policies_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidPolicy):
        ChannelPolicy(**kwargs)  # type: ignore[arg-type]


def test_a_threshold_above_one_switches_that_step_off() -> None:
    no_deny = ChannelPolicy(0.3, 0.6, 1.01)
    assert decide(model=1.0, policy=no_deny).outcome == "review"


# --- invariants ------------------------------------------------------------------------------------------

rule_hits = st.lists(
    st.builds(hit, key=st.sampled_from(["a", "b", "c", "d"]), action=st.sampled_from(
        ["allow", "challenge", "review", "deny", "score"]), weight=st.floats(-1, 1)),
    max_size=4, unique_by=lambda h: h.key,
)
list_hits = st.lists(st.builds(entry, list_kind=st.sampled_from(["block", "allow", "watch"]),
                               subject=st.sampled_from(["card", "device", "pair", "ip"])), max_size=4)
models = st.none() | st.floats(0, 1)
policies = st.builds(
    lambda a, b, c, w: ChannelPolicy(*sorted((a, b, c)), watch_weight=w),
    st.floats(0.01, 1.2), st.floats(0.01, 1.2), st.floats(0.01, 1.2), st.floats(0, 1),
)


@settings(max_examples=300)
@given(lists=list_hits, live=rule_hits, model=models, policy=policies,
       subject=st.sampled_from(["card", "device", "pair"]))
def test_adding_a_block_hit_never_lowers_the_outcome_and_always_denies(lists, live, model, policy,
                                                                       subject) -> None:
    rules = RuleEvaluation(live_hits=tuple(live))
    before = decide(lists=lists, rules=rules, model=model, policy=policy)
    after = decide(lists=[*lists, entry("block", subject)], rules=rules, model=model, policy=policy)
    assert OUTCOME_RANK[after.outcome] >= OUTCOME_RANK[before.outcome]
    assert after.outcome == "deny" and after.reasons[0].code.startswith("list.block.")


@settings(max_examples=300)
@given(lists=list_hits, live=rule_hits, model=models, policy=policies)
def test_an_allow_pair_wins_over_rules_and_model_unless_blocked(lists, live, model, policy) -> None:
    decision = decide(lists=[*lists, entry("allow", "pair")], rules=RuleEvaluation(live_hits=tuple(live)),
                      model=model, policy=policy)
    blocked = any(h.list_kind == "block" for h in lists)
    assert decision.outcome == ("deny" if blocked else "allow")


@settings(max_examples=300)
@given(lists=list_hits, live=rule_hits, shadow=rule_hits, model=models, challenger=models, policy=policies)
def test_shadow_hits_and_the_challenger_never_change_outcome_score_or_reasons(lists, live, shadow, model,
                                                                              challenger, policy) -> None:
    base = decide(lists=lists, rules=RuleEvaluation(live_hits=tuple(live)), model=model, policy=policy)
    shadowed = decide(
        lists=lists, model=model, policy=policy, challenger=challenger,
        rules=RuleEvaluation(
            live_hits=tuple(live),
            shadow_hits=tuple(RuleHit(h.key, h.version, h.action, h.weight, h.reason, "shadow")
                              for h in shadow),
        ),
    )
    assert (shadowed.outcome, shadowed.score, shadowed.reasons) == (base.outcome, base.score, base.reasons)


@settings(max_examples=300)
@given(lists=list_hits, live=rule_hits, low=st.floats(0, 1), high=st.floats(0, 1), policy=policies)
def test_a_higher_model_score_never_lowers_the_outcome(lists, live, low, high, policy) -> None:
    low, high = sorted((low, high))
    rules = RuleEvaluation(live_hits=tuple(live))
    a = decide(lists=lists, rules=rules, model=low, policy=policy)
    b = decide(lists=lists, rules=rules, model=high, policy=policy)
    assert OUTCOME_RANK[b.outcome] >= OUTCOME_RANK[a.outcome]
    assert b.score >= a.score
    assert 0.0 <= a.score <= 1.0 and len(a.reasons) <= MAX_REASONS
    assert len({r.code for r in b.reasons}) == len(b.reasons)
