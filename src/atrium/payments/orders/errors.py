"""Standing order errors; each carries its HTTP status and problem type."""

from __future__ import annotations

from atrium.kit.errors import Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    """Also for someone else's order: 404, never 403, so order ids cannot be probed."""

    code = "order-not-found"
    title = "No such order"


class InvalidSchedule(ValidationFailed):
    code = "invalid-schedule"
    title = "The schedule is not valid"


class OrderFinished(Conflict):
    code = "order-finished"
    title = "The order has already completed"
