"""Bank limits: the bank's per-transaction, daily and monthly limit for every channel, method and currency
(defaults overlaid with what staff changed), and the edit form for operators and administrators.

Amounts are typed in major units ("50,000.00") and parsed exactly (`kit.money.parse_major`); the limits
domain checks the rest (per transaction ≤ daily ≤ monthly) and writes its own audit of the change.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.kit.errors import AtriumError, NotFound, ValidationFailed
from atrium.kit.money import CURRENCY_EXPONENT, MAX_AMOUNT_MINOR, parse_major
from atrium.limits import service as limits
from atrium.limits.domain import CHANNELS, METHODS
from atrium.limits.schemas import BankLimitRead
from atrium.web.deps import ReadOnlySession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
FIELDS = ("per_transaction", "daily", "monthly")


def _key(channel: str, method: str, currency: str) -> tuple[str, str, str]:
    if channel not in CHANNELS or method not in METHODS or currency not in CURRENCY_EXPONENT:
        raise NotFound("no such bank limit")
    return channel, method, currency


@router.get("/staff/limits")
def bank_limits(
    request: Request,
    user: Annotated[ConsoleUser, permit("limits.view")],
    session: ReadOnlySession,
    channel: Annotated[str, Query(max_length=16)] = "",
    currency: Annotated[str, Query(max_length=3)] = "",
    saved: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    if channel and channel not in CHANNELS:
        raise ValidationFailed("unknown channel")
    if currency and currency not in CURRENCY_EXPONENT:
        raise ValidationFailed("unknown currency")
    everything = limits.list_bank_limits(session)
    currencies = sorted({row.currency for row in everything}, key=lambda c: (c != "CNY", c))
    rows = [
        r
        for r in everything
        if (not channel or r.channel == channel) and (not currency or r.currency == currency)
    ]
    saved_row = next((r for r in rows if f"{r.channel}.{r.method}.{r.currency}" == saved), None)
    return render(
        request,
        "staff/limits.html",
        title=translator(request)("limits.title"),
        nav="limits",
        rows=rows,
        channels=CHANNELS,
        currencies=currencies,
        channel=channel,
        currency=currency,
        saved=saved_row,
    )


def _edit_form(
    request: Request,
    row: BankLimitRead,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    t = translator(request)
    return render(
        request,
        "staff/limit_edit.html",
        status_code=status_code,
        title=t("limits.edit.title"),
        nav="limits",
        row=row,
        values=values,
        errors=errors or {},
    )


@router.get("/staff/limits/{channel}/{method}/{currency}")
def edit_bank_limit(
    request: Request,
    channel: str,
    method: str,
    currency: str,
    user: Annotated[ConsoleUser, permit("limits.edit")],
    session: ReadOnlySession,
) -> Response:
    key = _key(channel, method, currency)
    return _edit_form(request, limits.get_bank_limit(session, channel=key[0], method=key[1], currency=key[2]))


def _parse(raw: str, currency: str) -> int:
    value = parse_major(raw.strip(), currency)  # ValueError for anything that is not an exact amount
    if not 0 <= value <= MAX_AMOUNT_MINOR:
        raise ValueError("out of range")
    return value


@router.post("/staff/limits/{channel}/{method}/{currency}", dependencies=[Depends(csrf.verify)])
def save_bank_limit(
    request: Request,
    channel: str,
    method: str,
    currency: str,
    user: Annotated[ConsoleUser, permit("limits.edit")],
    per_transaction: Annotated[str, Form(max_length=48)] = "",
    daily: Annotated[str, Form(max_length=48)] = "",
    monthly: Annotated[str, Form(max_length=48)] = "",
) -> Response:
    t = translator(request)
    key = _key(channel, method, currency)
    values = {"per_transaction": per_transaction, "daily": daily, "monthly": monthly}
    errors: dict[str, str] = {}
    parsed: dict[str, int] = {}
    for field, raw in values.items():
        try:
            parsed[field] = _parse(raw, currency)
        except ValueError:
            errors[field] = t("limits.error.amount")
    if not errors:
        try:
            get_db().run(
                lambda s: limits.set_bank_limit(
                    s,
                    staff_id=user.id,
                    staff_role=user.role,
                    channel=key[0],
                    method=key[1],
                    currency=key[2],
                    per_transaction_minor=parsed["per_transaction"],
                    daily_minor=parsed["daily"],
                    monthly_minor=parsed["monthly"],
                )
            )
        except AtriumError as exc:
            if exc.status == 403:
                raise  # the limits domain refused the role: the 403 page, as for any other page
            code = f"error.{exc.code}"
            errors["form"] = t(code) if t.has(code) else t("error.generic")
    if errors:
        with get_db().read_session() as s:
            row = limits.get_bank_limit(s, channel=key[0], method=key[1], currency=key[2])
        return _edit_form(request, row, status_code=422, values=values, errors=errors)
    back = urlencode({"currency": currency, "saved": ".".join(key)})
    return redirect(request, f"/staff/limits?{back}")
