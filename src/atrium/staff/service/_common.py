"""Helpers shared by the staff use cases: keyset cursors and the masked summary of a customer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.kit.errors import ValidationFailed
from atrium.kit.pagination import decode_cursor
from atrium.staff.domain import mask_name, mask_username
from atrium.staff.errors import CustomerNotFound
from atrium.staff.schemas import CustomerSummary

MAX_PAGE = 200


def before_id(cursor: str | None) -> str | None:
    if not cursor:
        return None
    (value,) = decode_cursor(cursor, size=1)
    if not isinstance(value, str):
        raise ValidationFailed("malformed cursor")
    return value


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")


def summary(customer) -> CustomerSummary:  # type: ignore[no-untyped-def] - identity's Customer row
    return CustomerSummary(
        id=customer.id,
        masked_name=mask_name(customer.display_name),
        masked_username=mask_username(customer.username),
        status=customer.status,
        locale=customer.locale,
        created_at=customer.created_at,
    )


def existing_customer(session: Session, customer_id: str):  # type: ignore[no-untyped-def]
    """The customer row, or CustomerNotFound. Knowing that an id exists reads nothing about the customer,
    so it comes before the audit record (an unknown id records nothing)."""
    customer = identity.get_customer(session, customer_id)
    if customer is None:
        raise CustomerNotFound("no such customer", customer_id=customer_id)
    return customer
