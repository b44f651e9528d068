"""The rule language: safe expressions over features and event fields, compiled to closures.

Invariants:
- User text is never handed to Python: a hand-written tokenizer and recursive-descent parser build a small
  syntax tree; there is no eval/exec/compile, no attribute access, no subscripts, and no calls except
  min, max, abs and log1p.
- Every name is checked at compile time against an explicit vocabulary (name → number | string), and
  types are checked where both sides are known (a string is never compared with a number). A number is a
  condition (true when non-zero: features encode flags as 0/1) and true/false are the numbers 1/0, so
  `payee_new_for_customer and amount > 3 * customer_amount_mean_30d` is well-typed; strings are neither.
- Limits: at most 2,000 characters, 32 levels of nesting, 200 syntax nodes.
- Compiling raises `RuleSyntaxError(message, position)` and nothing else, whatever the input.
- Evaluating never raises out of `RuleSet.evaluate`: a rule that cannot be evaluated for an event (missing
  feature, division by zero) does not fire and is recorded in `RuleEvaluation.errors`; one that reads a
  feature not applying to the event (NaN) does not fire and is listed in `RuleEvaluation.not_applicable`.
"""

from atrium.risk.domain.rules.compiler import (
    CompiledRule,
    RuleEvaluationError,
    RuleNotApplicable,
    compile_rule,
)
from atrium.risk.domain.rules.errors import RuleDefinitionError, RuleSyntaxError
from atrium.risk.domain.rules.lexer import MAX_LENGTH
from atrium.risk.domain.rules.parser import FUNCTIONS, MAX_DEPTH, MAX_NODES
from atrium.risk.domain.rules.ruleset import (
    ACTIONS,
    EMPTY_EVALUATION,
    MODES,
    Rule,
    RuleError,
    RuleEvaluation,
    RuleHit,
    RuleSet,
)
from atrium.risk.domain.rules.vocabulary import (
    EVENT_FIELDS,
    NUMBER,
    STRING,
    Vocabulary,
    default_vocabulary,
    event_fields,
    make_vocabulary,
)

__all__ = [
    "ACTIONS",
    "EMPTY_EVALUATION",
    "EVENT_FIELDS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MODES",
    "NUMBER",
    "STRING",
    "CompiledRule",
    "Rule",
    "RuleDefinitionError",
    "RuleError",
    "RuleEvaluation",
    "RuleEvaluationError",
    "RuleHit",
    "RuleNotApplicable",
    "RuleSet",
    "RuleSyntaxError",
    "Vocabulary",
    "compile_rule",
    "default_vocabulary",
    "event_fields",
    "make_vocabulary",
]
