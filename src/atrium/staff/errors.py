from atrium.kit.errors import Forbidden, NotFound, ValidationFailed


class PermissionDenied(Forbidden):
    """The staff member's role does not include the action (see `atrium.staff.permissions`)."""

    code = "staff-permission-denied"
    title = "Your role does not allow this"


class InvalidReason(ValidationFailed):
    code = "invalid-access-reason"
    title = "The reason for the access is not valid"


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "No such customer"
