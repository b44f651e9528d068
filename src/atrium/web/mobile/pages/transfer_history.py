"""Recent transfers: what the customer sent, newest first, each with its status in words — a payment held
by the security checks reads "being checked — we'll message you" — and a link to its result page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.payments import errors as payment_errors
from atrium.payments import service as payments
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, translator

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 20


@router.get("/transfers")
def transfer_history(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    t = translator(request)
    try:
        page = payments.list_transfers(session, customer_id=customer.id, cursor=cursor, limit=PAGE_SIZE)
    except payment_errors.InvalidPaymentDetails:  # a tampered cursor: start again from the newest
        page = payments.list_transfers(session, customer_id=customer.id, limit=PAGE_SIZE)
    return render(
        request, "pages/transfer_history.html", title=t("transfer.history.title"), tab="transfer",
        back="/transfer", page=page, older=cursor is not None,
    )
