from atrium.kit.errors import Forbidden, NotFound, RateLimited, ValidationFailed


class PermissionDenied(Forbidden):
    """The staff member's role does not include the action (see `atrium.staff.permissions`)."""

    code = "staff-permission-denied"
    title = "Your role does not allow this"


class InvalidReason(ValidationFailed):
    code = "invalid-access-reason"
    title = "The reason for the access is not valid"


class RevealReasonRequired(ValidationFailed):
    """A reveal needs a reason category and a reason in words; `field` says which is missing."""

    code = "reveal-reason-required"
    title = "Say why the field is revealed"


class RevealLimitReached(RateLimited):
    """429: the staff member has revealed as many fields as the bank allows in the window; `retry_after`
    is the seconds until the oldest reveal that counts leaves it."""

    code = "reveal-limit-reached"
    title = "Too many fields revealed; wait before revealing another"

    def __init__(self, detail: str, *, retry_after: int, limit: int) -> None:
        super().__init__(detail, retry_after=retry_after, limit=limit)
        self.retry_after = retry_after


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "No such customer"


class FieldNotOnFile(NotFound):
    code = "field-not-on-file"
    title = "The customer has no such detail on file"


class SectionNotFound(NotFound):
    code = "section-not-found"
    title = "No such section of the customer page"


class UnknownField(NotFound):
    code = "field-not-found"
    title = "No such customer detail"


class ExportTooLarge(ValidationFailed):
    code = "audit-export-too-large"
    title = "Too many records for one export; narrow the filters"
