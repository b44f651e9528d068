"""Domain errors that carry their HTTP status and an RFC 9457 problem type.

Every domain defines its errors as subclasses in its own `errors.py`; the web edge maps them once to a
problem response. A bad request must never surface as a 500.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AtriumError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"  # last segment of the problem type URI
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(AtriumError):
    status = 422
    code = "validation-failed"
    title = "The request is not valid"


class NotFound(AtriumError):
    status = 404
    code = "not-found"
    title = "Not found"


class Forbidden(AtriumError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthenticated(AtriumError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Conflict(AtriumError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class BusinessRuleViolated(AtriumError):
    """A well-formed request the bank's rules refuse (insufficient funds, a limit, a closed account)."""

    status = 422
    code = "business-rule"
    title = "The request breaks a business rule"


class RateLimited(AtriumError):
    status = 429
    code = "rate-limited"
    title = "Too many requests"
