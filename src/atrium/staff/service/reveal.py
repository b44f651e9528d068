"""Revealing one masked KYC field to a staff member: the strictest read in the console.

Invariants:
- The staff member's role must allow `customers.unmask` (the console checks it; so does this module, so no
  other caller can skip it).
- A reveal needs a reason category and a reason in words (`domain.reveal_reason`); without them nothing is
  read and nothing is recorded.
- Each reveal is its own `customer.unmask` record (screen "customer.kyc"), with the field's name in
  `detail` — never its value — written before the value is read, in the same transaction.
- At most `settings.staff.reveal_limit` reveals per staff member in any `reveal_window_s` seconds (counted
  from the audit itself, so the limit and the record cannot disagree); one more is refused with
  `RevealLimitReached` (429) and writes nothing.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.staff import permissions, repository
from atrium.staff.domain import reveal_reason
from atrium.staff.errors import FieldNotOnFile, RevealLimitReached, UnknownField
from atrium.staff.schemas import RevealedField
from atrium.staff.service._common import existing_customer, summary
from atrium.staff.service.audit import record_access

KYC_FIELDS: tuple[str, ...] = identity.KYC_FIELDS
ACTION = "customer.unmask"


def _window_s() -> int:
    return get_settings().staff.reveal_window_s


def reveals_left(session: Session, staff_id: str) -> tuple[int, int]:
    """(reveals the staff member may still make now, seconds until one more frees up; 0 if some are left)."""
    limit, window = get_settings().staff.reveal_limit, timedelta(seconds=_window_s())
    now = clock.now()
    times = repository.recent_times(session, staff_id=staff_id, action=ACTION, since=now - window)
    if len(times) < limit:
        return limit - len(times), 0
    # After the (used - limit + 1) oldest reveals have left the window, one more fits.
    oldest = times[len(times) - limit]
    return 0, max(1, math.ceil((oldest + window - now).total_seconds()))


def reveal_field(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    customer_id: str,
    field: str,
    category: str | None,
    reason: str | None,
) -> RevealedField:
    """One KYC field of one customer in clear, recorded as its own `customer.unmask` access."""
    permissions.require(staff_role, "customers.unmask")
    if field not in KYC_FIELDS:
        raise UnknownField("no such detail", field=field)
    chosen, text = reveal_reason(category, reason)
    customer = existing_customer(session, customer_id)
    if identity.masked_kyc(session, customer.id)[field] is None:
        raise FieldNotOnFile("the customer has no such detail on file", field=field)  # nothing to reveal
    repository.serialise_staff(session, staff_id)
    left, retry_after = reveals_left(session, staff_id)
    if left == 0:
        limit = get_settings().staff.reveal_limit
        raise RevealLimitReached(
            f"at most {limit} reveals in {_window_s()} seconds", retry_after=retry_after, limit=limit
        )
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action=ACTION, customer_id=customer.id,
        screen="customer.kyc", reason=text, reason_category=chosen, detail=f"field={field}",
    )
    value = identity.reveal_kyc(session, customer.id, field)
    return RevealedField(customer=summary(customer), field=field, value=value, access=access)
