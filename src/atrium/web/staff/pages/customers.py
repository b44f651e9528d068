"""Customers: search by username or name (masked results). One customer's page is `customer_360`.

A search shows customer data, so it runs in a write unit of work: `atrium.staff.service` records the
access (who, what, why, how many were shown) in the same transaction as the read. The reason comes from
the `reason` query parameter (the search form carries it on to the customer links), else the default.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.staff import service as staff
from atrium.web.deps import WriteSession
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
PAGE = 25
# The reason field is checked by the staff domain (length, control characters) for a clear 422; this cap
# only stops absurd inputs before they are parsed.
_REASON_CAP = 1000


@router.get("/staff/customers")
def customer_search(
    request: Request,
    user: Annotated[ConsoleUser, permit("customers.view")],
    session: WriteSession,
    q: Annotated[str, Query(max_length=200)] = "",
    reason: Annotated[str, Query(max_length=_REASON_CAP)] = "",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    t = translator(request)
    page = staff.search_customers(
        session,
        staff_id=user.id,
        staff_role=user.role,
        text=q,
        reason=reason or None,
        cursor=cursor,
        limit=PAGE,
    )
    searched = bool(q.strip())
    next_url = (
        f"/staff/customers?{urlencode({'q': q, 'reason': reason, 'cursor': page.next_cursor})}"
        if page.next_cursor
        else None
    )
    link_query = f"?{urlencode({'reason': reason})}" if reason.strip() else ""
    return render(
        request,
        "staff/customers.html",
        title=t("customers.title"),
        nav="customers",
        q=q,
        reason=reason,
        searched=searched,
        page=page,
        next_url=next_url,
        link_query=link_query,
    )
