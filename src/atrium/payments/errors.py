"""Payment errors; each carries its HTTP status and problem type (mapped once at the web edge)."""

from __future__ import annotations

from atrium.kit.errors import BusinessRuleViolated, Conflict, Forbidden, NotFound, ValidationFailed


class TransferNotFound(NotFound):
    code = "transfer-not-found"
    title = "No such transfer"


class PayeeNotFound(NotFound):
    code = "payee-not-found"
    title = "No such payee"


class PayeeExists(Conflict):
    code = "payee-exists"
    title = "That payee is already saved"


class InvalidPaymentDetails(ValidationFailed):
    """An amount, account number, bank code, name or memo that is malformed."""

    code = "invalid-payment-details"
    title = "The payment details are not valid"


class UnknownBank(ValidationFailed):
    code = "unknown-bank"
    title = "That bank is not reachable through the clearing rail"


class UnknownDestinationAccount(BusinessRuleViolated):
    code = "unknown-destination-account"
    title = "No Atrium account has that number"


class SameAccount(BusinessRuleViolated):
    code = "same-account"
    title = "The source and destination are the same account"


class CurrencyMismatch(BusinessRuleViolated):
    code = "currency-mismatch"
    title = "The currencies do not match"


class CurrencyNotCleared(BusinessRuleViolated):
    code = "currency-not-cleared"
    title = "The receiving bank does not accept that currency"


class OwnAccountPayee(BusinessRuleViolated):
    code = "own-account-payee"
    title = "Your own accounts need no payee"


class InsufficientFunds(BusinessRuleViolated):
    code = "insufficient-funds"
    title = "Not enough money in the account"


class PaymentDeclined(Forbidden):
    """The bank's security checks (atrium.risk) declined the payment; nothing moved. Carries the declined
    transfer's id, its reason codes and the customer's texts (`messages`: locale → text)."""

    code = "payment-declined"
    title = "The payment was declined by our security checks"


class TransferNotHeld(Conflict):
    """Releasing or cancelling a transfer that is not (or no longer) held for review."""

    code = "transfer-not-held"
    title = "The transfer is not held for review"
