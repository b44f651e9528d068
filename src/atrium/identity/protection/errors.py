"""Errors of sign-in protection. Each carries its HTTP status; `retry_after` (seconds) in an error's extras
becomes the problem response's `Retry-After` header."""

from __future__ import annotations

from datetime import datetime

from atrium.kit.errors import AtriumError, Conflict, NotFound, ValidationFailed
from atrium.kit.errors import RateLimited as _RateLimited


class RateLimited(_RateLimited):
    """429: too many attempts from one address or at one username; try again after `retry_after` s."""

    code = "rate-limited"
    title = "Too many attempts; wait and try again"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class AccountLocked(AtriumError):
    """423 Locked (RFC 4918): the sign-in is refused whatever the password. A temporary lock says until
    when (and `retry_after`); a permanent one lasts until the bank unlocks it."""

    status = 423
    code = "account-locked"
    title = "The account is locked"

    def __init__(self, *, lock: str, locked_until: datetime | None, retry_after: int | None) -> None:
        if lock == "temporary" and locked_until is not None:
            detail = (
                f"too many wrong passwords: sign-in is locked until {locked_until.isoformat()} "
                "(even the right password is refused until then)"
            )
            super().__init__(detail, lock=lock, locked_until=locked_until.isoformat(),
                             retry_after=retry_after)
        else:
            detail = "too many wrong passwords: sign-in is locked until the bank unlocks it; contact us"
            super().__init__(detail, lock=lock)
        self.lock = lock
        self.locked_until = locked_until


class UnlockReasonRequired(ValidationFailed):
    code = "unlock-reason-required"
    title = "Say why the customer is unlocked"


class NotLocked(Conflict):
    code = "not-locked"
    title = "The customer is not locked"


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "No such customer"


class SessionNotFound(NotFound):
    """Also for another customer's session: a 404, never a 403, so session ids cannot be probed."""

    code = "session-not-found"
    title = "No such session"
