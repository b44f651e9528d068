"""Errors of the accounts domain; each carries its HTTP status (the web edge maps them to problems)."""

from atrium.kit.errors import BusinessRuleViolated, NotFound, ValidationFailed


class AccountNotFound(NotFound):
    """Also raised for someone else's account: 404, never 403, so account ids cannot be probed."""

    code = "account-not-found"
    title = "No such account"


class InvalidAccountRequest(ValidationFailed):
    code = "invalid-account-request"
    title = "The account request is not valid"


class InvalidAccountNumber(ValidationFailed):
    code = "invalid-account-number"
    title = "That is not a valid account number"


class InvalidStatementQuery(ValidationFailed):
    code = "invalid-statement-query"
    title = "The statement query is not valid"


class AccountNotEmpty(BusinessRuleViolated):
    code = "account-not-empty"
    title = "The account still holds money"


class AccountClosed(BusinessRuleViolated):
    code = "account-closed"
    title = "The account is closed"


class TooManyAccounts(BusinessRuleViolated):
    code = "too-many-accounts"
    title = "Too many open accounts"


class InterestPeriodOpen(ValidationFailed):
    code = "interest-period-open"
    title = "That interest period has not ended"
