"""QR pay errors. Every refusal of a payload is a 422 problem that says what is wrong with the code."""

from __future__ import annotations

from atrium.kit.errors import BusinessRuleViolated, Conflict, ValidationFailed


class QrMalformed(ValidationFailed):
    code = "qr-malformed"
    title = "This is not an Atrium QR code"


class QrBadSignature(ValidationFailed):
    """The signature does not verify: the code was altered (merchant, amount, …) or forged."""

    code = "qr-bad-signature"
    title = "The QR code's signature is not valid"


class QrRevoked(ValidationFailed):
    code = "qr-revoked"
    title = "The QR code was revoked by the merchant"


class QrExpired(BusinessRuleViolated):
    code = "qr-expired"
    title = "The QR code has expired"


class QrMerchantUnavailable(BusinessRuleViolated):
    code = "qr-merchant-unavailable"
    title = "The merchant is not accepting payments"


class QrAmountMismatch(ValidationFailed):
    code = "qr-amount-mismatch"
    title = "The amount differs from the QR code's fixed amount"


class QrAmountRequired(ValidationFailed):
    code = "qr-amount-required"
    title = "This QR code has no amount; enter one"


class QrAlreadyPaid(Conflict):
    code = "qr-already-paid"
    title = "This QR code has already been paid"


class InvalidQrRequest(ValidationFailed):
    code = "invalid-qr-request"
    title = "The QR code request is not valid"


class QrKeyUnavailable(Conflict):
    """The merchant's sealed seed does not open (the secret key changed): rotate the merchant's key."""

    code = "qr-key-unavailable"
    title = "The merchant's QR signing key cannot be used"
