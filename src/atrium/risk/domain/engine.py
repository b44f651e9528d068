"""The decision path: features → lists → rules → model → combine, then the event joins the feature state.

Invariants:
- One code path for the app's payments, the decision API and the benchmark replay (`Engine.decide`).
- Shadow rules and the challenger model are evaluated and recorded on the decision, never acted on
  (`decide.combine` ignores them for the outcome).
- The event is observed (added to the windows) after it is decided, so its own vector is "as of" it and
  a retried subject (same `event_id`) is not counted twice.
- No I/O and no clock reads except the monotonic timer for the per-stage timings (µs) on the decision.
- Explanations (SHAP, ~0.5 ms) are computed only for events the model flags (score at or above the
  channel's challenge threshold), so the reason can name the top factor; everything else skips them.
- Not thread-safe: the feature state has one owner. The service serialises calls (or runs one engine per
  worker); a model swap is an attribute assignment, atomic for the next decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter_ns
from typing import Protocol

from atrium.risk.domain.decide import ChannelPolicy, Decision, combine, policy_for
from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.features import FeatureState, payer_habit
from atrium.risk.domain.lists import ListIndex
from atrium.risk.domain.model import Scorer
from atrium.risk.domain.rules import EMPTY_EVALUATION, RuleSet, event_fields

TIMING_KEYS = ("features_us", "lists_us", "rules_us", "model_us", "combine_us", "observe_us", "total_us")


class FeatureSource(Protocol):
    """What the engine needs of a feature state: a `FeatureState`, or a view of one (the service's
    read-only view adds events from the committed log instead of in `observe`)."""

    def features(self, event: RiskEvent) -> dict[str, float]: ...

    def observe(self, event: RiskEvent) -> None: ...


class Engine:
    """Everything one decision needs, in memory. Swap `lists`, `rules`, `champion` or `challenger` when
    the service reloads them (a new risk revision)."""

    def __init__(
        self,
        state: FeatureSource | None = None,
        lists: ListIndex | None = None,
        rules: RuleSet | None = None,
        champion: Scorer | None = None,
        challenger: Scorer | None = None,
        policies: Mapping[str, ChannelPolicy] | None = None,
        *,
        explain_flagged: bool = True,
        explain_k: int = 3,
    ) -> None:
        self.state: FeatureSource = state if state is not None else FeatureState()
        self.lists = lists if lists is not None else ListIndex()
        self.rules = rules
        self.champion = champion
        self.challenger = challenger
        self.policies = dict(policies) if policies else None
        self.explain_flagged = explain_flagged
        self.explain_k = explain_k

    def policy(self, channel: str) -> ChannelPolicy:
        return policy_for(channel, self.policies)

    def decide(self, event: RiskEvent, now: float | None = None) -> Decision:
        """Decide `event` (lists are checked for expiry at `now`, default the event's time), then observe it.

        The decision carries per-stage timings in µs (`TIMING_KEYS`)."""
        clock = perf_counter_ns
        t0 = clock()
        state = self.state
        features = state.features(event)
        t1 = clock()
        list_hits = self.lists.match(event, event.at if now is None else now)
        t2 = clock()
        rules = self.rules
        if rules is not None and len(rules):
            env: dict[str, float | str] = event_fields(event)
            env.update(features)  # the features win where both define a name (amount, hour_of_day)
            rule_eval = rules.evaluate(env)
        else:
            rule_eval = EMPTY_EVALUATION
        t3 = clock()
        policy = self.policy(event.channel)
        champion, challenger = self.champion, self.challenger
        model_score = champion.score(features) if champion is not None else None
        challenger_score = challenger.score(features) if challenger is not None else None
        factors: list[tuple[str, float]] = []
        if (self.explain_flagged and champion is not None and model_score is not None
                and model_score >= policy.challenge_at):
            factors = champion.explain(features, k=self.explain_k)
        t4 = clock()
        decision = combine(event=event, features=features, list_hits=list_hits, rule_eval=rule_eval,
                           model_score=model_score, challenger_score=challenger_score, policy=policy,
                           model_factors=factors)
        t5 = clock()
        state.observe(event, payer_habit(event, features))
        t6 = clock()
        return decision.with_timings({
            "features_us": (t1 - t0) // 1000, "lists_us": (t2 - t1) // 1000, "rules_us": (t3 - t2) // 1000,
            "model_us": (t4 - t3) // 1000, "combine_us": (t5 - t4) // 1000, "observe_us": (t6 - t5) // 1000,
            "total_us": (t6 - t0) // 1000,
        })

    def label(self, event_id: str, fraud: bool, at: float, event: RiskEvent | None = None) -> bool:
        """A label arrives (see `FeatureState.label`); a view of a state takes labels from its owner."""
        if not isinstance(self.state, FeatureState):
            raise TypeError("labels go to the FeatureState that owns the view")
        return self.state.label(event_id, fraud, at, event)
