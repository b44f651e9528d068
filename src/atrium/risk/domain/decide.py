"""How list hits, rule hits and the model's score combine into one decision under a channel's policy.

Invariants (`combine`):
- Outcomes are ordered allow < challenge < review < deny.
- A block-list hit denies, whatever else is true. Adding a block hit never lowers an outcome.
- An allow-list hit (any subject, including a payer–payee pair) allows unless there is a block hit;
  rules and the model then cannot raise the outcome (the entry is a curated, published decision).
- Otherwise the score decides: score = model score (0 without a model) + live rule weights + the policy's
  watch weight per watch-list hit, clamped to [0, 1], mapped by the channel's thresholds. Live rules whose
  action is challenge / review / deny raise the outcome to at least that action.
- A live "allow" rule waives the score-based outcome (model, weights and watch lists) for that event, but
  never another rule's explicit challenge / review / deny, nor a block list: an expert's pass for a
  known-good pattern must not hide a stricter rule that also matched.
- Shadow rule hits and the challenger's score are recorded, never used: they change neither the outcome
  nor the score.
- Reasons are ordered most important first (block list, allow list, rules by action, then contributions
  by size, then the threshold summary), without repeated codes, at most `MAX_REASONS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from atrium.kit.errors import ValidationFailed
from atrium.risk.domain.events import CHANNELS, RiskEvent
from atrium.risk.domain.lists import ListHit
from atrium.risk.domain.reasons import Reason
from atrium.risk.domain.rules import RuleError, RuleEvaluation, RuleHit

OUTCOMES: Final = ("allow", "challenge", "review", "deny")
OUTCOME_RANK: Final = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}
MAX_REASONS: Final = 5
UNAVAILABLE: Final = "risk.unavailable"


class InvalidPolicy(ValidationFailed):
    code = "invalid-risk-policy"
    title = "The channel's risk policy is not valid"


def stricter(a: str, b: str) -> str:
    """The stricter of two outcomes."""
    return a if OUTCOME_RANK[a] >= OUTCOME_RANK[b] else b


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """Score thresholds and the fail policy of one channel.

    A score at or above `deny_at` denies, else at or above `review_at` reviews, else at or above
    `challenge_at` challenges. A threshold above 1 switches its step off (the score never reaches it).
    `on_timeout` is the outcome when no decision arrives within `timeout_ms` (or the engine fails).
    `watch_weight` is added to the score per watch-list hit."""

    challenge_at: float
    review_at: float
    deny_at: float
    on_timeout: str = "challenge"
    timeout_ms: int = 50
    watch_weight: float = 0.15

    def __post_init__(self) -> None:
        thresholds = (self.challenge_at, self.review_at, self.deny_at)
        if any(isinstance(t, bool) or not isinstance(t, int | float) or math.isnan(t) for t in thresholds):
            raise InvalidPolicy("thresholds must be numbers")
        if not 0 < self.challenge_at <= self.review_at <= self.deny_at:
            raise InvalidPolicy("thresholds must satisfy 0 < challenge_at <= review_at <= deny_at")
        if self.on_timeout not in OUTCOMES:
            raise InvalidPolicy(f"on_timeout must be one of {', '.join(OUTCOMES)}")
        if isinstance(self.timeout_ms, bool) or not isinstance(self.timeout_ms, int) or self.timeout_ms < 1:
            raise InvalidPolicy("timeout_ms must be a positive integer")
        if not 0 <= self.watch_weight <= 1:
            raise InvalidPolicy("watch_weight must be within [0, 1]")

    def outcome_for(self, score: float) -> str:
        if score >= self.deny_at:
            return "deny"
        if score >= self.review_at:
            return "review"
        if score >= self.challenge_at:
            return "challenge"
        return "allow"

    def threshold_of(self, outcome: str) -> float:
        thresholds = {"challenge": self.challenge_at, "review": self.review_at, "deny": self.deny_at}
        return thresholds.get(outcome, 0.0)


# Starting points per channel (the service may override them from settings). Card authorisations fail
# open: the network's stand-in processing applies its own rules and the issuer must answer within the
# network's budget. Money movements and account changes fail to a challenge the customer can complete.
DEFAULT_POLICIES: Final[Mapping[str, ChannelPolicy]] = {
    "transfer": ChannelPolicy(0.35, 0.60, 0.90, on_timeout="challenge", timeout_ms=250),
    "qr": ChannelPolicy(0.40, 0.65, 0.90, on_timeout="challenge", timeout_ms=250),
    "card": ChannelPolicy(0.50, 0.75, 0.92, on_timeout="allow", timeout_ms=20),
    "login": ChannelPolicy(0.40, 0.80, 0.95, on_timeout="challenge", timeout_ms=300),
    "device": ChannelPolicy(0.30, 0.70, 0.90, on_timeout="challenge", timeout_ms=300),
    "payee": ChannelPolicy(0.40, 0.75, 0.92, on_timeout="challenge", timeout_ms=300),
    # External channels (e.g. another issuer's authorisations) run their own stand-in rules, as card
    # networks do, so the API fails open like cards.
    "api": ChannelPolicy(0.50, 0.75, 0.92, on_timeout="allow", timeout_ms=30),
}
assert set(DEFAULT_POLICIES) == set(CHANNELS)  # a channel without a policy is a bug, caught at import


def policy_for(channel: str, overrides: Mapping[str, ChannelPolicy] | None = None) -> ChannelPolicy:
    """The channel's policy: an override if given, else the default. Unknown channels get the strictest
    fail policy of the defaults' shape ("api" thresholds, fail to review)."""
    if overrides and channel in overrides:
        return overrides[channel]
    if channel in DEFAULT_POLICIES:
        return DEFAULT_POLICIES[channel]
    return replace(DEFAULT_POLICIES["api"], on_timeout="review")


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision for one event, with everything needed to explain and audit it.

    `features` is the vector the engine computed (the feature log's row); `timings` are microseconds per
    stage, filled by the engine (`with_timings`); `fallback` is true when the channel's fail policy
    decided because the engine timed out or failed."""

    outcome: str
    score: float
    reasons: tuple[Reason, ...] = ()
    rule_hits: tuple[RuleHit, ...] = ()
    shadow_hits: tuple[RuleHit, ...] = ()
    list_hits: tuple[ListHit, ...] = ()
    model_score: float | None = None
    challenger_score: float | None = None
    features: Mapping[str, float] = field(default_factory=dict)
    timings: Mapping[str, int] = field(default_factory=dict)
    rule_errors: tuple[RuleError, ...] = ()
    fallback: bool = False

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def with_timings(self, timings: Mapping[str, int]) -> Decision:
        return replace(self, timings=dict(timings))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the decision log and the API."""
        return {
            "outcome": self.outcome,
            "score": self.score,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "rule_hits": [hit.to_dict() for hit in self.rule_hits],
            "shadow_hits": [hit.to_dict() for hit in self.shadow_hits],
            "list_hits": [hit.to_dict() for hit in self.list_hits],
            "model_score": self.model_score,
            "challenger_score": self.challenger_score,
            "features": dict(self.features),
            "timings": dict(self.timings),
            "rule_errors": [error.to_dict() for error in self.rule_errors],
            "fallback": self.fallback,
        }


def combine(
    *,
    event: RiskEvent,
    features: Mapping[str, float],
    list_hits: Sequence[ListHit],
    rule_eval: RuleEvaluation,
    model_score: float | None,
    challenger_score: float | None,
    policy: ChannelPolicy,
    model_factors: Iterable[tuple[str, float]] = (),
) -> Decision:
    """The decision for `event` (see the module's invariants). `model_factors` are the champion's top
    feature contributions, most important first (optional: they only enrich the model's reason)."""
    blocks = [hit for hit in list_hits if hit.list_kind == "block"]
    allows = [hit for hit in list_hits if hit.list_kind == "allow"]
    watches = [hit for hit in list_hits if hit.list_kind == "watch"]
    live = rule_eval.live_hits

    model = _unit(model_score)
    rules_weight = sum(hit.weight for hit in live)
    watch_weight = policy.watch_weight * len(watches)
    score = min(1.0, max(0.0, (model or 0.0) + rules_weight + watch_weight))
    by_score = policy.outcome_for(score)

    if blocks:
        outcome = "deny"
    elif allows:
        outcome = "allow"
    else:
        outcome = "allow" if any(hit.action == "allow" for hit in live) else by_score
        for hit in live:
            if hit.action in OUTCOME_RANK:
                outcome = stricter(outcome, hit.action)

    ranked: list[tuple[int, float, int, Reason]] = []

    def add(tier: int, weight: float, reason: Reason) -> None:
        ranked.append((tier, -weight, len(ranked), reason))

    for hit in blocks:
        add(0, 0.0, Reason(f"list.block.{hit.subject_kind}", _entry(hit)))
    if not blocks:
        for hit in allows:
            add(1, 0.0, Reason(f"list.allow.{hit.subject_kind}", _entry(hit)))
    for hit in live:
        params = {"rule": hit.key, "version": hit.version, "action": hit.action, "weight": hit.weight}
        if hit.action in ("challenge", "review", "deny"):
            add(2, OUTCOME_RANK[hit.action] + abs(hit.weight) / 2, Reason(hit.reason, params))
        else:
            add(3, abs(hit.weight), Reason(hit.reason, params))
    if model is not None and model >= policy.challenge_at:
        add(3, model, Reason("model.high_score", _model_params(model, model_factors, features)))
    for hit in watches:
        add(3, policy.watch_weight, Reason(f"list.watch.{hit.subject_kind}",
                                           {**_entry(hit), "weight": policy.watch_weight}))
    if by_score != "allow" and not blocks and not allows:
        add(4, 0.0, Reason("score.threshold", {
            "score": round(score, 4), "threshold": policy.threshold_of(by_score), "outcome": by_score,
            "model": round(model or 0.0, 4), "rules": round(rules_weight, 4), "watch": round(watch_weight, 4),
        }))
    ranked.sort(key=lambda item: item[:3])
    reasons: list[Reason] = []
    seen: set[str] = set()
    for *_, reason in ranked:
        if reason.code not in seen:
            seen.add(reason.code)
            reasons.append(reason)

    return Decision(
        outcome=outcome,
        score=score,
        reasons=tuple(reasons[:MAX_REASONS]),
        rule_hits=tuple(live),
        shadow_hits=tuple(rule_eval.shadow_hits),
        list_hits=tuple(list_hits),
        model_score=model,
        challenger_score=_unit(challenger_score),
        features=features,
        rule_errors=tuple(rule_eval.errors),
    )


def fallback(channel_policy: ChannelPolicy, reason: str = UNAVAILABLE, *, cause: str = "timeout",
             features: Mapping[str, float] | None = None) -> Decision:
    """The decision when the engine timed out or failed: the channel's fail policy, stated as a reason."""
    return Decision(
        outcome=channel_policy.on_timeout,
        score=0.0,
        reasons=(Reason(reason, {"policy": channel_policy.on_timeout, "cause": cause}),),
        features=dict(features or {}),
        fallback=True,
    )


def _unit(score: float | None) -> float | None:
    """A model score as a probability: None (no model, or not a number) or clamped into [0, 1]."""
    if score is None or isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
        return None
    return min(1.0, max(0.0, float(score)))


def _entry(hit: ListHit) -> dict[str, Any]:
    return {"entry": hit.entry_id} if hit.entry_id else {}


def _model_params(model: float, factors: Iterable[tuple[str, float]],
                  features: Mapping[str, float]) -> dict[str, Any]:
    """The score and the top factor (its name, value and contribution) — numbers only, no entity keys."""
    params: dict[str, Any] = {"score": round(model, 4)}
    for feature, contribution in factors:
        params.update(feature=feature, contribution=round(float(contribution), 4))
        value = features.get(feature)
        if isinstance(value, int | float) and math.isfinite(value):
            params["value"] = float(f"{value:.6g}")
        break
    return params
