"""The access audit: every staff read of customer data, newest first, filterable by customer, staff
member (id or username), action, a range of days and the staff sign-in session, 50 a page; and the
filtered records as CSV. Each row shows the session it came from (short; a link to all of that session's
records) and the client address. Administrators and compliance officers only (`audit.view`).

Reading the log records nothing (it is not customer data); the CSV export is recorded (`audit.export`,
its filters and row count in `detail`), since the records then leave the console."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.identity import service as identity
from atrium.kit.errors import ValidationFailed
from atrium.staff import service as staff
from atrium.web.deps import ReadOnlySession, WriteSession
from atrium.web.mobile.templating import finish
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
PAGE = 50
Text40 = Annotated[str, Query(max_length=64)]


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed("a day is YYYY-MM-DD", field=name) from None


def _query(  # type: ignore[no-untyped-def]
    session, *, customer_id: str, staff_id: str, action: str, date_from: str, date_to: str,
    session_ref: str = "",
) -> tuple[dict[str, str], staff.AuditQuery]:
    """The filters as typed (for the form and the links), and the query they mean. A staff member is
    given by id or by username; an unknown username matches nobody (rather than everybody)."""
    typed = {"customer_id": customer_id.strip(), "staff_id": staff_id.strip(), "action": action.strip(),
             "date_from": date_from.strip(), "date_to": date_to.strip(), "session_ref": session_ref.strip()}
    who = typed["staff_id"] or None
    if who and not who.startswith("stf_"):
        row = identity.find_staff_by_username(session, who)
        who = row.id if row else "-"
    query = staff.AuditQuery(
        customer_id=typed["customer_id"] or None,
        staff_id=who,
        action=typed["action"] or None,
        date_from=_day(typed["date_from"], "date_from"),
        date_to=_day(typed["date_to"], "date_to"),
        session_ref=typed["session_ref"] or None,
    )
    return typed, query


@router.get("/staff/audit")
def audit_log(
    request: Request,
    user: Annotated[ConsoleUser, permit("audit.view")],
    session: ReadOnlySession,
    customer_id: Text40 = "",
    staff_id: Text40 = "",
    action: Text40 = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    session_ref: Text40 = "",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    typed, query = _query(
        session, customer_id=customer_id, staff_id=staff_id, action=action, date_from=date_from,
        date_to=date_to, session_ref=session_ref,
    )
    page = staff.list_access(session, query, cursor=cursor, limit=PAGE)
    people = {}
    for sid in {r.staff_id for r in page.items}:
        row = identity.get_staff(session, sid)
        people[sid] = (row.display_name, row.username) if row else (sid, "")
    params = {k: v for k, v in typed.items() if v}
    next_url = (
        f"/staff/audit?{urlencode(params | {'cursor': page.next_cursor})}" if page.next_cursor else None
    )
    return render(
        request,
        "staff/audit.html",
        title=translator(request)("audit.title"),
        nav="audit",
        page=page,
        people=people,
        filters=typed,
        filtered=bool(params),
        actions=staff.AUDITED_ACTIONS,
        next_url=next_url,
        first_url="/staff/audit" + (f"?{urlencode(params)}" if params else "") if cursor else None,
        export_url="/staff/audit/export.csv" + (f"?{urlencode(params)}" if params else ""),
    )


@router.get("/staff/audit/export.csv")
def export_csv(
    request: Request,
    user: Annotated[ConsoleUser, permit("audit.view")],
    session: WriteSession,
    customer_id: Text40 = "",
    staff_id: Text40 = "",
    action: Text40 = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    session_ref: Text40 = "",
) -> Response:
    _, query = _query(
        session, customer_id=customer_id, staff_id=staff_id, action=action, date_from=date_from,
        date_to=date_to, session_ref=session_ref,
    )
    export = staff.export_access(session, query, staff_id=user.id, staff_role=user.role)
    # A byte-order mark, so spreadsheet programs read the Chinese in reasons as UTF-8.
    response = Response(
        content="\ufeff" + export.csv,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
    return finish(request, response)
