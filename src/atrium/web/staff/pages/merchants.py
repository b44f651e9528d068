"""Merchants: every merchant with its category, city, status and settlement balances, filterable by
status and category, newest first."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.kit.errors import ValidationFailed
from atrium.payments.merchants import service as merchants
from atrium.payments.merchants.schemas import CATEGORIES
from atrium.web.deps import ReadOnlySession
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
PAGE = 50


@router.get("/staff/merchants")
def merchant_list(
    request: Request,
    user: Annotated[ConsoleUser, permit("merchants.view")],
    session: ReadOnlySession,
    status: Annotated[str, Query(max_length=16)] = "",
    category: Annotated[str, Query(max_length=24)] = "",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    if status and status not in merchants.STATUSES:
        raise ValidationFailed("unknown merchant status")
    if category and category not in CATEGORIES:
        raise ValidationFailed("unknown merchant category")
    page = merchants.list_merchants(
        session, status=status or None, category=category or None, cursor=cursor, limit=PAGE
    )
    filters = {"status": status, "category": category}
    next_url = (
        f"/staff/merchants?{urlencode(filters | {'cursor': page.next_cursor})}" if page.next_cursor else None
    )
    return render(
        request,
        "staff/merchants.html",
        title=translator(request)("merchants.title"),
        nav="merchants",
        page=page,
        statuses=merchants.STATUSES,
        categories=CATEGORIES,
        filters=filters,
        next_url=next_url,
    )
