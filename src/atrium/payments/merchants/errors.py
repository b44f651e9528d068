"""Merchant errors; each carries its HTTP status and problem type."""

from __future__ import annotations

from atrium.kit.errors import BusinessRuleViolated, Conflict, Forbidden, NotFound, ValidationFailed


class MerchantNotFound(NotFound):
    code = "merchant-not-found"
    title = "No such merchant"


class InvalidMerchant(ValidationFailed):
    code = "invalid-merchant"
    title = "The merchant details are not valid"


class MerchantNotActive(BusinessRuleViolated):
    code = "merchant-not-active"
    title = "The merchant is not active"


class MerchantCurrencyNotAccepted(BusinessRuleViolated):
    code = "merchant-currency-not-accepted"
    title = "The merchant does not accept that currency"


class MerchantStatusFinal(Conflict):
    code = "merchant-closed"
    title = "A closed merchant cannot change status"


class NotAllowedToManageMerchants(Forbidden):
    code = "merchants-forbidden"
    title = "Only operators and administrators manage merchants"
