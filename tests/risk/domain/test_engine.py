"""The decision path end to end in memory: features → lists → rules → model → combine → observe."""

from __future__ import annotations

import numpy as np
import pytest

from atrium.risk.domain.engine import TIMING_KEYS, Engine
from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.features import FEATURE_NAMES, FeatureState
from atrium.risk.domain.lists import ListEntry, ListIndex
from atrium.risk.domain.model import Scorer, train
from atrium.risk.domain.rules import Rule, RuleSet, default_vocabulary

pytestmark = pytest.mark.database_independent

T0 = 1_900_000_000.0


def event(n: int, minor: int = 10_000, **keys: str) -> RiskEvent:
    return RiskEvent(f"e{n}", T0 + n * 60, keys.pop("channel", "transfer"), minor,
                     **{"customer": "c1", "payee": "p1", "device": "d1", **keys})


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    """A model that flags large amounts to a payee new for the customer."""
    rng = np.random.default_rng(1)
    n = 2000
    amount = rng.gamma(2, 200, n)
    new = rng.integers(0, 2, n).astype(float)
    X = np.full((n, len(FEATURE_NAMES)), np.nan)
    X[:, FEATURE_NAMES.index("amount")] = amount
    X[:, FEATURE_NAMES.index("payee_new_for_customer")] = new
    y = ((amount > 900) & (new == 1)).astype(int)
    params = {"n_estimators": 80, "num_leaves": 7, "min_child_samples": 5, "learning_rate": 0.2}
    return train(X, y, FEATURE_NAMES, params).scorer()


def test_no_lists_rules_or_model_allows_and_observes() -> None:
    state = FeatureState()
    engine = Engine(state)
    first = engine.decide(event(1))
    assert first.outcome == "allow" and first.model_score is None and first.score == 0.0
    assert set(first.timings) == set(TIMING_KEYS) and first.timings["total_us"] >= 0
    assert first.features["payee_new_for_customer"] == 1.0
    second = engine.decide(event(2))
    assert second.features["customer_count_1h"] == 2 and second.features["payee_new_for_customer"] == 0.0
    # The same subject again is not counted twice.
    again = engine.decide(event(2))
    assert again.features["customer_count_1h"] == 2
    assert state.events_cached() == 2


def test_block_list_denies_and_expired_entries_do_not_match() -> None:
    lists = ListIndex([ListEntry("block", "device", "d1", expires_at=T0 + 120, entry_id="b1")])
    engine = Engine(FeatureState(), lists)
    assert engine.decide(event(1)).outcome == "deny"
    assert engine.decide(event(2)).outcome == "allow"  # at T0 + 120: expired
    assert engine.decide(event(3), now=T0).outcome == "deny"  # lists checked at `now` when given


def test_live_rules_act_and_shadow_rules_are_only_recorded() -> None:
    vocabulary = default_vocabulary()
    rules = RuleSet([
        Rule("big-new-payee", 1, "amount > 500 and payee_new_for_customer == 1", "review", 0.2),
        Rule("night-shadow", 1, "amount > 500", "deny", 0.5, mode="shadow"),
        Rule("ratio", 1, "amount / customer_count_30d > 1", "score", 0.1),
    ], vocabulary)
    engine = Engine(rules=rules)
    decision = engine.decide(event(1, minor=90_000))
    assert decision.outcome == "review"
    assert [h.key for h in decision.rule_hits] == ["big-new-payee", "ratio"]
    assert [h.key for h in decision.shadow_hits] == ["night-shadow"]
    assert decision.score == pytest.approx(0.3)  # live weights only
    assert engine.decide(event(2, minor=1_000)).outcome == "allow"


def test_champion_acts_challenger_is_recorded_and_flagged_scores_are_explained(scorer: Scorer) -> None:
    engine = Engine(champion=scorer, challenger=scorer)
    risky = engine.decide(event(1, minor=150_000, payee="new"))
    assert risky.model_score is not None and risky.model_score > 0.9
    assert risky.challenger_score == pytest.approx(risky.model_score)
    assert risky.outcome in ("review", "deny")
    model_reason = next(r for r in risky.reasons if r.code == "model.high_score")
    assert model_reason.params["feature"] in ("amount", "payee_new_for_customer")
    calm = engine.decide(event(2, minor=5_000))
    assert calm.model_score is not None and calm.model_score < 0.1 and calm.outcome == "allow"


def test_challenger_alone_never_acts(scorer: Scorer) -> None:
    engine = Engine(challenger=scorer)
    decision = engine.decide(event(1, minor=150_000, payee="new"))
    assert decision.challenger_score is not None and decision.challenger_score > 0.9
    assert decision.model_score is None and decision.outcome == "allow"


def test_labels_reach_the_state_through_the_engine() -> None:
    engine = Engine(FeatureState(label_delay_s=3600))
    engine.decide(event(0, terminal="t"))
    assert engine.label("e0", True, T0 + 3600)
    probe = engine.decide(event(70, terminal="t"))  # T0 + 4200: e0 lies in the delayed window
    assert probe.features["terminal_fraud_share_1d"] == 1.0
