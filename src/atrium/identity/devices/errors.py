"""The device domain's errors. A signature that does not hold is one error with one code, whatever the
reason (tampered element, another device, replayed nonce, stale time), so a caller cannot probe which check
failed; the detail says which, for the customer and the logs."""

from atrium.kit.errors import NotFound, ValidationFailed


class DeviceNotFound(NotFound):
    code = "device-not-found"
    title = "No such device"


class InvalidPublicKey(ValidationFailed):
    code = "invalid-public-key"
    title = "The device key is not a P-256 public key"


class TamperedSignature(ValidationFailed):
    code = "signature-invalid"
    title = "The transaction signature does not hold"
