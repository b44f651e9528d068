"""The risk domain's errors: each is a typed problem (status + code), never a 500 on bad input.

A malformed rule expression raises the rule language's own `RuleSyntaxError` (422, with `position`),
re-exported here so callers need one import path.
"""

from __future__ import annotations

from atrium.kit.errors import BusinessRuleViolated, Conflict, Forbidden, NotFound, ValidationFailed
from atrium.risk.domain.rules.errors import RuleDefinitionError, RuleSyntaxError


class DecisionNotFound(NotFound):
    code = "risk-decision-not-found"
    title = "No such risk decision"


class SubjectConflict(Conflict):
    """The same (channel, subject_ref) was screened before with different facts (amount, customer, …): a
    retry must repeat the request, so a changed one is a client bug, not a new decision."""

    code = "risk-subject-reused"
    title = "This subject was already decided with different details"


class InvalidLabel(ValidationFailed):
    code = "risk-label-invalid"
    title = "The label is not valid"


class CaseNotFound(NotFound):
    code = "risk-case-not-found"
    title = "No such case"


class CaseClosed(Conflict):
    """The case was already resolved (another analyst acted first): nothing is released twice."""

    code = "risk-case-closed"
    title = "The case was already resolved"


class CaseHeld(BusinessRuleViolated):
    """Closing a case whose payment is still held: the analyst must release it or confirm fraud."""

    code = "risk-case-held"
    title = "Release the held payment or confirm fraud"


class RuleNotFound(NotFound):
    code = "risk-rule-not-found"
    title = "No such rule"


class RuleNotPending(Conflict):
    code = "risk-rule-not-pending"
    title = "The rule version is not waiting for a decision"


class RuleConflict(Conflict):
    code = "risk-rule-conflict"
    title = "Another change to this rule was made at the same time"


class SelfApproval(Forbidden):
    """Maker-checker: whoever wrote a rule version cannot approve it."""

    code = "risk-self-approval"
    title = "A rule needs a second person's approval"


class ListEntryNotFound(NotFound):
    code = "risk-list-entry-not-found"
    title = "No such list entry"


class ListEntryExists(Conflict):
    code = "risk-list-entry-exists"
    title = "That value is already on this list"


class InvalidListEntry(ValidationFailed):
    code = "risk-list-entry-invalid"
    title = "The list entry is not valid"


class ModelNotFound(NotFound):
    code = "risk-model-not-found"
    title = "No such model"


class NotEnoughLabels(BusinessRuleViolated):
    """Training was asked for a window without enough labelled history to learn anything."""

    code = "risk-not-enough-labels"
    title = "Not enough labelled history to train a model"


class ModelNotPromotable(Conflict):
    code = "risk-model-not-promotable"
    title = "Only a challenger can be promoted"


class PromotionNotFound(NotFound):
    code = "risk-promotion-not-found"
    title = "No such promotion request"


class PromotionPending(Conflict):
    """A model has at most one promotion request waiting: the checker decides that one first."""

    code = "risk-promotion-pending"
    title = "A promotion of this model is already waiting for approval"


class PromotionNotPending(Conflict):
    code = "risk-promotion-not-pending"
    title = "The promotion request was already decided"


class PromotionSelfApproval(Forbidden):
    """Maker-checker: whoever asked for a promotion cannot approve or reject it."""

    code = "risk-promotion-self-approval"
    title = "A promotion needs a second person's decision"


class PromotionReasonMissing(ValidationFailed):
    code = "risk-promotion-reason-missing"
    title = "Say why the model should be promoted"


__all__ = [
    "CaseClosed", "CaseHeld", "CaseNotFound", "DecisionNotFound", "InvalidLabel", "InvalidListEntry",
    "ListEntryExists", "ListEntryNotFound", "ModelNotFound", "ModelNotPromotable", "NotEnoughLabels",
    "PromotionNotFound", "PromotionNotPending", "PromotionPending", "PromotionReasonMissing",
    "PromotionSelfApproval",
    "RuleConflict", "RuleDefinitionError", "RuleNotFound", "RuleNotPending", "RuleSyntaxError",
    "SelfApproval", "SubjectConflict",
]
