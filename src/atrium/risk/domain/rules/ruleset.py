"""Rules as data: a `Rule` is a compiled expression plus what happens when it fires; a `RuleSet` evaluates
all of them against one environment (features + event fields) and never raises."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from atrium.risk.domain.rules.compiler import CompiledRule, RuleNotApplicable, compile_rule
from atrium.risk.domain.rules.errors import RuleDefinitionError, RuleSyntaxError
from atrium.risk.domain.rules.vocabulary import Vocabulary, default_vocabulary

ACTIONS: Final = ("allow", "challenge", "review", "deny", "score")
MODES: Final = ("live", "shadow")
# Keys become reason codes ("rule.<key>") and URL segments in the staff console.
KEY_PATTERN: Final = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
MAX_WEIGHT: Final = 1.0


@dataclass(frozen=True, slots=True)
class Rule:
    """One version of an expert rule.

    - `action`: "score" only adds `weight`; "challenge" / "review" / "deny" raise the outcome to at least
      that; "allow" passes the event on the score (see `decide.combine`) but never over a stricter rule or
      a block list. Every action adds `weight` to the combined score when the rule fires.
    - `weight`: in [-1, 1]; a negative weight lowers the score (a known-good pattern).
    - `reason`: the reason code shown when it fires; empty means "rule.<key>".
    - `mode`: "live" acts; "shadow" is evaluated and recorded only.
    """

    key: str
    version: int
    expression: str
    action: str
    weight: float = 0.0
    reason: str = ""
    mode: str = "live"

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not KEY_PATTERN.fullmatch(self.key):
            raise RuleDefinitionError(
                f"rule key {self.key!r} must be 1-64 characters of a-z, 0-9, '_', '.', '-', "
                "starting with a letter"
            )
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise RuleDefinitionError(f"rule version must be a positive integer, not {self.version!r}")
        if self.action not in ACTIONS:
            raise RuleDefinitionError(f"rule action {self.action!r} must be one of {', '.join(ACTIONS)}")
        if self.mode not in MODES:
            raise RuleDefinitionError(f"rule mode {self.mode!r} must be one of {', '.join(MODES)}")
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise RuleDefinitionError(f"rule weight must be a finite number, not {weight!r}")
        if abs(weight) > MAX_WEIGHT:
            raise RuleDefinitionError(f"rule weight {weight} is outside [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}]")
        if not isinstance(self.reason, str) or len(self.reason) > 100:
            raise RuleDefinitionError("rule reason must be a reason code of at most 100 characters")

    @property
    def reason_code(self) -> str:
        return self.reason or f"rule.{self.key}"


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired (live or shadow)."""

    key: str
    version: int
    action: str
    weight: float
    reason: str  # the reason code (never empty)
    mode: str

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "version": self.version, "action": self.action, "weight": self.weight,
                "reason": self.reason, "mode": self.mode}


@dataclass(frozen=True, slots=True)
class RuleError:
    """A rule that could not be evaluated for one event (division by zero, a missing feature, or — with
    `strict=False` — a rule that no longer compiles). It did not fire."""

    key: str
    version: int
    mode: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "version": self.version, "mode": self.mode, "message": self.message}


@dataclass(frozen=True, slots=True)
class RuleEvaluation:
    """Live hits act; shadow hits are recorded only; `errors` are rules that could not be evaluated;
    `not_applicable` are keys of rules that read a feature not applying to this event (NaN) — neither
    fired, and only `errors` are worth an analyst's attention."""

    live_hits: tuple[RuleHit, ...] = ()
    shadow_hits: tuple[RuleHit, ...] = ()
    errors: tuple[RuleError, ...] = ()
    not_applicable: tuple[str, ...] = ()


EMPTY_EVALUATION: Final = RuleEvaluation()


class RuleSet:
    """Compiled rules, evaluated in the order given. Compiles once at construction.

    `strict=True` (the default) raises `RuleSyntaxError` naming the rule when one does not compile;
    `strict=False` keeps the others working and reports the broken one in `broken` and, for every event,
    in `RuleEvaluation.errors` (a published rule that stops compiling after a feature is renamed must not
    take the whole decision path down).

    The environment is the engine's features over the event fields: `{**event_fields(event), **features}`.
    `vocabulary` defaults to `default_vocabulary()` (the engine's feature names plus the event fields)."""

    __slots__ = ("_compiled", "broken", "rules")

    def __init__(self, rules: Iterable[Rule], vocabulary: Vocabulary | None = None, *,
                 strict: bool = True) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        keys = [(rule.key, rule.version) for rule in self.rules]
        if len(set(keys)) != len(keys):
            raise RuleDefinitionError("a rule set holds each (key, version) at most once")
        if vocabulary is None:
            vocabulary = default_vocabulary()
        compiled: list[tuple[CompiledRule, RuleHit]] = []
        broken: list[RuleError] = []
        for rule in self.rules:
            try:
                program = compile_rule(rule.expression, vocabulary)
            except RuleSyntaxError as error:
                if strict:
                    raise RuleSyntaxError(f"rule {rule.key} v{rule.version}: {error.message}",
                                          error.position) from error
                message = f"does not compile: {error.message}"
                broken.append(RuleError(rule.key, rule.version, rule.mode, message))
                continue
            hit = RuleHit(rule.key, rule.version, rule.action, float(rule.weight), rule.reason_code,
                          rule.mode)
            compiled.append((program, hit))
        self._compiled = tuple(compiled)
        self.broken: tuple[RuleError, ...] = tuple(broken)

    def __len__(self) -> int:
        return len(self.rules)

    def evaluate(self, env: Mapping[str, float | str]) -> RuleEvaluation:
        """Which rules fire for `env`. Never raises: a rule that fails to evaluate is in `errors`."""
        live: list[RuleHit] = []
        shadow: list[RuleHit] = []
        errors: list[RuleError] = list(self.broken)
        skipped: list[str] = []
        for program, hit in self._compiled:
            try:
                fired = program.test(env)
            except RuleNotApplicable:
                skipped.append(hit.key)
                continue
            except Exception as error:  # a rule must never break a decision, whatever went wrong
                errors.append(RuleError(hit.key, hit.version, hit.mode, program.describe_error(error)))
                continue
            if fired:
                (live if hit.mode == "live" else shadow).append(hit)
        if not (live or shadow or errors or skipped):
            return EMPTY_EVALUATION
        return RuleEvaluation(tuple(live), tuple(shadow), tuple(errors), tuple(skipped))
