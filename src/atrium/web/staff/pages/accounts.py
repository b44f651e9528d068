"""One deposit account for staff: details (masked number, balances) and its entries, 25 a page, with the
counterparties masked. Every page load is one `account.view` record of the holder (`customers.view`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from atrium.staff import service as staff
from atrium.web.deps import WriteSession
from atrium.web.staff.pages.customer_360 import customer_url, with_reason
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)


@router.get("/staff/accounts/{account_id}")
def account_page(
    request: Request,
    account_id: Annotated[str, Path(max_length=40)],
    user: Annotated[ConsoleUser, permit("customers.view")],
    session: WriteSession,
    reason: Annotated[str, Query(max_length=1000)] = "",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    view = staff.view_account(
        session, staff_id=user.id, staff_role=user.role, account_id=account_id, reason=reason or None,
        cursor=cursor,
    )
    query = {"reason": reason.strip(), "cursor": view.next_cursor or ""}
    next_url = (
        f"/staff/accounts/{view.account.id}?{urlencode({k: v for k, v in query.items() if v})}"
        if view.next_cursor
        else None
    )
    return render(
        request,
        "staff/account.html",
        title=translator(request)("account.title", number=view.account.masked_number),
        nav="customers",
        view=view,
        reason=reason.strip(),
        next_url=next_url,
        first_url=with_reason(f"/staff/accounts/{view.account.id}", reason) if cursor else None,
        holder_url=customer_url(view.holder.id, reason=reason),
        with_reason=with_reason,
    )
