from typing import Any

from atrium.kit.errors import Conflict, NotFound, RateLimited, Unauthenticated, ValidationFailed


class InvalidCode(Unauthenticated):
    """Wrong, expired, used, dead or bound to another action: the caller learns no more than that.

    `code_id` (not part of the problem) names the code that was tried, for `otp.service.record_failure`
    when the caller's transaction rolls back and takes the attempt count with it."""

    code = "invalid-code"
    title = "The code is wrong or has expired"

    def __init__(self, detail: str, *, code_id: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.code_id = code_id


class TooManyCodes(RateLimited):
    code = "too-many-codes"
    title = "Too many codes requested; wait before asking again"


class TotpAlreadyEnrolled(Conflict):
    code = "totp-already-enrolled"
    title = "An authenticator app is already set up"


class TotpNotEnrolling(Conflict):
    code = "totp-not-enrolling"
    title = "Start setting up the authenticator app first"


class TotpNotEnrolled(NotFound):
    code = "totp-not-enrolled"
    title = "No authenticator app is set up"


class PasswordRejected(ValidationFailed):
    """`violations`: the policy's stable ids ("too-short", "common", …)."""

    code = "password-rejected"
    title = "The new password does not meet the password rules"


class WrongCurrentPassword(ValidationFailed):
    code = "wrong-current-password"
    title = "The current password is not right"
