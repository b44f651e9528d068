"""One transfer for staff: amount, route, masked counterparty, and its status history. Every load is one
`transfer.view` record of the payer (`customers.view`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from atrium.staff import service as staff
from atrium.web.deps import WriteSession
from atrium.web.staff.pages.customer_360 import customer_url, with_reason
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)


@router.get("/staff/transfers/{transfer_id}")
def transfer_page(
    request: Request,
    transfer_id: Annotated[str, Path(max_length=40)],
    user: Annotated[ConsoleUser, permit("customers.view")],
    session: WriteSession,
    reason: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    view = staff.view_transfer(
        session, staff_id=user.id, staff_role=user.role, transfer_id=transfer_id, reason=reason or None
    )
    return render(
        request,
        "staff/transfer.html",
        title=translator(request)("transfer.title", id=view.transfer.id),
        nav="customers",
        view=view,
        reason=reason.strip(),
        owner_url=customer_url(view.owner.id, reason=reason),
        account_url=with_reason(f"/staff/accounts/{view.transfer.from_account_id}", reason),
    )
