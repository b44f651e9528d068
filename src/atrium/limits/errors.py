from __future__ import annotations

from typing import Any

from atrium.kit.errors import BusinessRuleViolated, Forbidden, ValidationFailed

_LIMIT_WORDS = {"per_transaction": "per-transaction", "daily": "daily", "monthly": "monthly"}


class LimitExceeded(BusinessRuleViolated):
    """A payment above a per-transaction, daily or monthly limit. The problem body names the limit, whose
    limit it is (`scope`: bank | customer), the method and channel, and how much is still allowed."""

    code = "limit-exceeded"
    title = "The payment exceeds a limit"

    def __init__(
        self,
        detail: str | None = None,
        *,
        limit: str,
        remaining_minor: int,
        scope: str = "bank",
        method: str | None = None,
        channel: str | None = None,
        currency: str | None = None,
        limit_minor: int | None = None,
    ) -> None:
        owner = {"customer": "your own", "new_device": "a new device's"}.get(scope, "the bank's")
        word = _LIMIT_WORDS.get(limit, limit)
        detail = detail or f"the payment is above {owner} {word} limit; {remaining_minor} minor units remain"
        extra: dict[str, Any] = {
            "limit": limit,
            "scope": scope,
            "method": method,
            "channel": channel,
            "currency": currency,
            "limit_minor": limit_minor,
            "remaining_minor": remaining_minor,
        }
        super().__init__(detail, **{k: v for k, v in extra.items() if v is not None})
        self.limit = limit
        self.scope = scope
        self.remaining_minor = remaining_minor
        self.limit_minor = limit_minor
        self.method = method
        self.channel = channel


class PaymentSwitchOff(BusinessRuleViolated):
    """The customer has switched this kind of payment off (online, overseas, night-time, QR, card not
    present)."""

    code = "payment-switch-off"
    title = "This kind of payment is switched off"

    def __init__(
        self, detail: str | None = None, *, switch: str, method: str | None = None, channel: str | None = None
    ) -> None:
        detail = detail or f"the {switch} switch is off; turn it on in the limits settings to pay this way"
        extra = {"switch": switch, "method": method, "channel": channel}
        super().__init__(detail, **{k: v for k, v in extra.items() if v is not None})
        self.switch = switch


class OwnLimitAboveBankLimit(ValidationFailed):
    code = "own-limit-above-bank-limit"
    title = "Your own limit cannot exceed the bank's limit"


class InvalidLimit(ValidationFailed):
    """Limits that contradict each other (per transaction above daily) or fall outside 0..10^15."""

    code = "invalid-limit"
    title = "The limit values are not valid"


class NotAllowedToManageLimits(Forbidden):
    code = "limits-forbidden"
    title = "Only operators and administrators manage bank limits"
