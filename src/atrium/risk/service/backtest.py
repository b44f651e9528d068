"""Backtesting a rule expression before it goes live: run it over the logged decisions of a window (their
feature vectors as the engine saw them, plus the event fields) and judge it by the labels that have
arrived by `as_of` — how often it fires, how much fraud it catches, its precision and recall, and which
outcomes it would have changed. Read-only."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.risk import repository
from atrium.risk.domain.decide import OUTCOME_RANK, ChannelPolicy, stricter
from atrium.risk.domain.rules import compile_rule, default_vocabulary, event_fields
from atrium.risk.domain.rules.compiler import RuleNotApplicable
from atrium.risk.models import RiskDecision
from atrium.risk.schemas import BacktestRead
from atrium.risk.service import setup

EXAMPLES = 20


def _would_be(row: RiskDecision, action: str, weight: float, policy: ChannelPolicy) -> str:
    """The decision's outcome had the rule been live and fired: at least its action, and its weight added to
    the score. An "allow" rule passes what only the score held back (never a block-list hit)."""
    blocked = any(hit.get("list_kind") == "block" for hit in row.list_hits)
    by_score = policy.outcome_for(min(1.0, max(0.0, row.score + weight)))
    outcome = stricter(row.outcome, by_score)
    if action in OUTCOME_RANK and action != "allow":
        return stricter(outcome, action)
    if action == "allow" and not blocked and not any(h.get("action") in ("challenge", "review", "deny")
                                                     for h in row.rule_hits):
        return "allow"
    return outcome


def backtest(session: Session, expression: str, since: datetime, until: datetime, *,
             action: str = "review", weight: float = 0.0, as_of: datetime | None = None) -> BacktestRead:
    """Evaluate `expression` over the decisions of [since, until); raises RuleSyntaxError if invalid."""
    program = compile_rule(expression, default_vocabulary())
    as_of = as_of or clock.now()
    policies = setup.current(session)
    rows = [r for r in repository.decisions_between(session, since, until) if repository.has_features(r)]
    truth: dict[str, bool] = {}
    for lab in repository.labels_for(session, [r.id for r in rows], known_at=as_of):
        truth[lab.decision_id] = lab.fraud
    fired = errors = caught = 0
    changed: Counter[str] = Counter()
    examples: list[str] = []
    for row in reversed(rows):  # newest first, for the examples
        env: dict[str, float | str] = event_fields(repository.event_of_row(row))
        env.update(repository.logged_features(row))
        try:
            hit = program.test(env)
        except RuleNotApplicable:
            hit = False
        except Exception:  # noqa: BLE001 - division by zero and the like: the rule does not fire
            errors += 1
            hit = False
        if not hit:
            continue
        fired += 1
        caught += truth.get(row.id) is True
        if len(examples) < EXAMPLES:
            examples.append(row.id)
        after = _would_be(row, action, weight, policies.policy(row.channel))
        if after != row.outcome:
            changed[f"{row.outcome}->{after}"] += 1
    frauds = sum(1 for r in rows if truth.get(r.id) is True)
    return BacktestRead(
        expression=expression, action=action, since=since, until=until, as_of=as_of,  # type: ignore[arg-type]
        evaluated=len(rows), fired=fired, frauds=frauds, fraud_caught=caught,
        precision=round(caught / fired, 4) if fired else None,
        recall=round(caught / frauds, 4) if frauds else None, errors=errors, changed=dict(changed),
        examples=examples,
    )
