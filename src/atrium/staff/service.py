"""Staff use cases on customer data: search customers, view one, and the audit of both.

Every function that returns customer data records the access first, in the caller's transaction, and
returns it masked (see the package docstring). Flushes, never commits: the record commits with the read.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.kit.ids import new_id
from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.payments import service as payments
from atrium.payments.schemas import TransferRead
from atrium.staff import repository
from atrium.staff.domain import AUDITED_ACTIONS, DEFAULT_REASON, clean_reason, mask_name, mask_username
from atrium.staff.errors import CustomerNotFound
from atrium.staff.models import AuditRecord
from atrium.staff.schemas import (
    AccessPage,
    AccessRecordRead,
    AccountLine,
    CustomerSearchPage,
    CustomerSummary,
    CustomerView,
    TransferLine,
)

MAX_PAGE = 200
DETAIL_MAX = 200
SEARCH_TEXT_MAX = 64
RECENT_TRANSFERS = 20

__all__ = [
    "AUDITED_ACTIONS",
    "DEFAULT_REASON",
    "list_access",
    "record_access",
    "search_customers",
    "view_customer",
]


def _before_id(cursor: str | None) -> str | None:
    if not cursor:
        return None
    (before_id,) = decode_cursor(cursor, size=1)
    if not isinstance(before_id, str):
        raise ValidationFailed("malformed cursor")
    return before_id


# --- the audit ---------------------------------------------------------------------------------------------


def record_access(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    action: str,
    customer_id: str | None = None,
    reason: str | None = None,
    detail: str = "",
) -> AccessRecordRead:
    """Write the audit record of one staff read. `reason` None or blank records `DEFAULT_REASON`;
    `detail` must hold no PII (a count, a screen name)."""
    if action not in AUDITED_ACTIONS:
        raise ValidationFailed(f"unknown audited action {action!r}")
    if len(detail) > DETAIL_MAX:
        raise ValidationFailed(f"detail is at most {DETAIL_MAX} characters")
    record = repository.add(
        session,
        AuditRecord(
            id=new_id("aud"),
            staff_id=staff_id,
            staff_role=staff_role or "",
            action=action,
            customer_id=customer_id,
            reason=clean_reason(reason),
            detail=detail,
            occurred_at=clock.now(),
        ),
    )
    return AccessRecordRead.model_validate(record)


def list_access(
    session: Session,
    *,
    customer_id: str | None = None,
    staff_id: str | None = None,
    action: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AccessPage:
    """Audit records, newest first, optionally for one customer, one staff member or one action."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
    rows = repository.page(
        session,
        customer_id=customer_id,
        staff_id=staff_id,
        action=action,
        before_id=_before_id(cursor),
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return AccessPage(
        items=[AccessRecordRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
    )


# --- customers, masked and audited -------------------------------------------------------------------------


def _summary(customer) -> CustomerSummary:  # type: ignore[no-untyped-def] - identity's Customer row
    return CustomerSummary(
        id=customer.id,
        masked_name=mask_name(customer.display_name),
        masked_username=mask_username(customer.username),
        status=customer.status,
        locale=customer.locale,
        created_at=customer.created_at,
    )


def search_customers(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    text: str,
    reason: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> CustomerSearchPage:
    """Customers whose username starts with `text` or whose name contains it, masked, newest first.
    Blank `text` searches nothing (and records nothing): staff look customers up, they do not browse them.
    The audit record keeps how many customers were shown, not the words searched for (they may be a name)."""
    needle = " ".join(text.split())
    if len(needle) > SEARCH_TEXT_MAX:
        raise ValidationFailed(f"search for at most {SEARCH_TEXT_MAX} characters")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
    if not needle:
        return CustomerSearchPage(items=[])
    before_id = _before_id(cursor)
    clean = clean_reason(reason)
    rows = identity.search_customers(session, text=needle, before_id=before_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    access = record_access(
        session,
        staff_id=staff_id,
        staff_role=staff_role,
        action="customer.search",
        reason=clean,
        detail=f"shown={len(rows)}" + (" page>1" if before_id else ""),
    )
    return CustomerSearchPage(
        items=[_summary(c) for c in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
        access=access,
    )


def _account_line(a: DepositAccountRead) -> AccountLine:
    return AccountLine(
        id=a.id,
        product=a.product,
        currency=a.currency,
        masked_number=a.masked_number,
        status=a.status,
        booked_minor=a.booked_minor,
        available_minor=a.available_minor,
        opened_at=a.opened_at,
    )


def _transfer_line(t: TransferRead, numbers: dict[str, str]) -> TransferLine:
    to = t.to
    to_number = numbers.get(to.account_id or "") or to.masked_account_number
    return TransferLine(
        id=t.id,
        kind=t.kind,
        status=t.status,
        channel=t.channel,
        from_masked_number=numbers.get(t.from_account_id),
        to_type=to.type,
        to_bank_code=to.bank_code,
        to_masked_number=to_number,
        to_masked_name=mask_name(to.name) if to.name else None,
        amount_minor=t.amount_minor,
        currency=t.currency,
        failure_code=t.failure_code,
        created_at=t.created_at,
        settled_at=t.settled_at,
    )


def view_customer(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    customer_id: str,
    reason: str | None = None,
) -> CustomerView:
    """One customer's profile, accounts (masked numbers, balances) and recent transfers, masked; the access
    is recorded before anything is read beyond the customer's existence (an unknown id records nothing)."""
    customer = identity.get_customer(session, customer_id)
    if customer is None:
        raise CustomerNotFound("no such customer", customer_id=customer_id)
    access = record_access(
        session,
        staff_id=staff_id,
        staff_role=staff_role,
        action="customer.view",
        customer_id=customer.id,
        reason=reason,
    )
    held = accounts.list_for_customer(session, customer.id)
    numbers = {a.id: a.masked_number for a in held}
    page = payments.list_transfers(session, customer_id=customer.id, limit=RECENT_TRANSFERS)
    return CustomerView(
        customer=_summary(customer),
        accounts=[_account_line(a) for a in held],
        transfers=[_transfer_line(t, numbers) for t in page.items],
        access=access,
    )
