"""The audit log: every staff read of customer data, newest first, filterable by customer, staff member
and action. Administrators and compliance officers only (`audit.view`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.identity import service as identity
from atrium.kit.errors import ValidationFailed
from atrium.staff import service as staff
from atrium.web.deps import ReadOnlySession
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
PAGE = 50


@router.get("/staff/audit")
def audit_log(
    request: Request,
    user: Annotated[ConsoleUser, permit("audit.view")],
    session: ReadOnlySession,
    customer_id: Annotated[str, Query(max_length=40)] = "",
    staff_id: Annotated[str, Query(max_length=40)] = "",
    action: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    if action and action not in staff.AUDITED_ACTIONS:
        raise ValidationFailed("unknown action")
    filters = {"customer_id": customer_id.strip(), "staff_id": staff_id.strip(), "action": action}
    page = staff.list_access(
        session,
        customer_id=filters["customer_id"] or None,
        staff_id=filters["staff_id"] or None,
        action=action or None,
        cursor=cursor,
        limit=PAGE,
    )
    people = {}
    for sid in {r.staff_id for r in page.items}:
        row = identity.get_staff(session, sid)
        people[sid] = (row.display_name, row.username) if row else (sid, "")
    next_url = (
        f"/staff/audit?{urlencode(filters | {'cursor': page.next_cursor})}" if page.next_cursor else None
    )
    return render(
        request,
        "staff/audit.html",
        title=translator(request)("audit.title"),
        nav="audit",
        page=page,
        people=people,
        filters=filters,
        actions=staff.AUDITED_ACTIONS,
        next_url=next_url,
    )
