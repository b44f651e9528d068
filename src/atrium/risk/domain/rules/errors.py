"""Errors of the rule language. Both are 422 problems at the edge: a rule is user input (an analyst's)."""

from __future__ import annotations

from atrium.kit.errors import ValidationFailed


class RuleSyntaxError(ValidationFailed):
    """An expression that is not a valid rule: malformed, unsafe, unknown name, wrong types or too big.

    `message` is the full human text (it names the position where one helps, e.g. "expected ')' at 17");
    `position` is the 0-based character offset the staff console highlights."""

    code = "rule-syntax"
    title = "The rule expression is not valid"

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position=position)
        self.message = message
        self.position = position

    def __reduce__(self):  # type: ignore[no-untyped-def]  # picklable despite the two-argument __init__
        return (type(self), (self.message, self.position))


class RuleDefinitionError(ValidationFailed):
    """A rule whose fields (key, action, mode, weight, version) are not valid, independent of its text."""

    code = "rule-definition"
    title = "The rule definition is not valid"
