"""A customer's login history, newest first: when, how, from which device, address and coarse place.

The events are written by the sign-in flow (`identity.login`); this module only reads them. It logs
nothing: addresses and user agents are the customer's own data, shown to them and to no log.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.identity.models import LoginEvent
from atrium.identity.protection import geo, useragent
from atrium.identity.protection.schemas import LoginEventRead, LoginHistoryPage
from atrium.kit.errors import ValidationFailed
from atrium.kit.pagination import decode_cursor, encode_cursor

MAX_PAGE = 100


def _read(event: LoginEvent) -> LoginEventRead:
    return LoginEventRead(
        id=event.id,
        occurred_at=event.occurred_at,
        outcome=event.outcome,
        method=event.method,
        ip=event.ip,
        device=useragent.summarise(event.user_agent),
        place=geo.locate(event.ip),
    )


def list_history(
    session: Session, customer_id: str, *, cursor: str | None = None, limit: int = 20
) -> LoginHistoryPage:
    """The customer's sign-in attempts (successes, failures, refusals while locked, second-factor
    challenges), newest first; `cursor` continues after the previous page (ids are time-ordered)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
    stmt = select(LoginEvent).where(
        LoginEvent.customer_id == customer_id, LoginEvent.subject_kind == "customer"
    )
    if cursor:
        (before_id,) = decode_cursor(cursor, size=1)
        if not isinstance(before_id, str):
            raise ValidationFailed("malformed cursor")
        stmt = stmt.where(LoginEvent.id < before_id)
    rows = list(session.scalars(stmt.order_by(LoginEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return LoginHistoryPage(
        items=[_read(r) for r in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
    )
