"""Ledger errors. Each carries its HTTP status (via the kit base class) and the facts a caller needs."""

from __future__ import annotations

from atrium.kit.errors import BusinessRuleViolated, Conflict, IdempotencyConflict, NotFound, ValidationFailed

__all__ = [
    "AccountCodeTaken",
    "AccountNotFound",
    "AlreadyReversed",
    "AmountOutOfRange",
    "CurrencyMismatch",
    "HoldExpired",
    "HoldNotFound",
    "HoldNotPending",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidLedgerRequest",
    "JournalNotFound",
    "LedgerError",
    "UnbalancedJournal",
    "UnsupportedCurrency",
]


class LedgerError(ValidationFailed):
    """Marker base for the ledger's own 422s (tests and callers can catch 'any ledger validation')."""


class InsufficientFunds(BusinessRuleViolated):
    """The debit would take a floor-enforced account below -overdraft_limit. `available_minor` says how
    much could be spent (booked minus pending reductions, plus nothing of the overdraft)."""

    code = "insufficient-funds"
    title = "Insufficient funds"


class UnbalancedJournal(LedgerError):
    code = "unbalanced-journal"
    title = "The journal's debits and credits differ"


class CurrencyMismatch(LedgerError):
    code = "currency-mismatch"
    title = "The currency does not match the account's currency"


class UnsupportedCurrency(LedgerError):
    code = "unsupported-currency"
    title = "Unsupported currency"


class AmountOutOfRange(LedgerError):
    code = "amount-out-of-range"
    title = "The amount is out of range"


class InvalidLedgerRequest(LedgerError):
    code = "invalid-ledger-request"
    title = "The ledger request is not valid"


class AccountNotFound(NotFound):
    code = "ledger-account-not-found"
    title = "Ledger account not found"


class JournalNotFound(NotFound):
    code = "journal-not-found"
    title = "Journal not found"


class HoldNotFound(NotFound):
    code = "hold-not-found"
    title = "Hold not found"


class HoldNotPending(Conflict):
    code = "hold-not-pending"
    title = "The hold is no longer pending"


class HoldExpired(HoldNotPending):
    """Posting a hold after its expiry time (before the expiry job got to it) is refused all the same."""

    code = "hold-expired"
    title = "The hold has expired"


class AlreadyReversed(Conflict):
    code = "already-reversed"
    title = "The journal was already reversed"


class AccountCodeTaken(Conflict):
    code = "ledger-account-code-taken"
    title = "A ledger account with this code already exists"
