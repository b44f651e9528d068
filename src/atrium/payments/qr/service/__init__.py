"""QR pay use cases (`atrium.payments.qr.service`): `issue_qr`, `parse_qr`, `pay_qr`, `rotate_key`,
`report_qr_not_me` ("this wasn't me" on a challenged QR payment).
Services flush, never commit. See the package docstring of `atrium.payments.qr` for the invariants."""

from atrium.payments.qr.service.codes import Verified, issue_qr, parse_qr, verify
from atrium.payments.qr.service.keys import rotate_key
from atrium.payments.qr.service.pay import free_code, pay_qr, released, report_qr_not_me

__all__ = [
    "Verified", "free_code", "issue_qr", "parse_qr", "pay_qr", "released", "report_qr_not_me", "rotate_key",
    "verify",
]
