"""Limits & switches: the bank's limits for the mobile channel, the customer's own limits with usage bars,
and the payment switches as accessible toggles (htmx PUT; a plain form post without JavaScript)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from atrium.accounts import service as accounts
from atrium.db.runtime import get_db
from atrium.identity.errors import StepUpRequired
from atrium.kit.errors import AtriumError, ValidationFailed
from atrium.kit.money import CURRENCY_EXPONENT, MAX_AMOUNT_MINOR, parse_major
from atrium.limits import service as limits
from atrium.limits.domain import METHODS, SWITCH_NAMES
from atrium.limits.schemas import LimitsOverview, UsageLine
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import csrf, messages
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import is_htmx, redirect, render, translator

router = APIRouter(route_class=PageRoute)
StepUpField = Annotated[str | None, Form(max_length=4000)]  # a completed step-up challenge
CHANNEL = "mobile"
SWITCH_ICONS = {
    "online_payments": "wifi",
    "overseas": "plane",
    "night_time": "moon",
    "qr_payments": "qr",
    "card_not_present": "card",
}


def _currencies(session: ReadOnlySession, customer_id: str) -> list[str]:
    held = {a.currency for a in accounts.list_for_customer(session, customer_id) if a.status == "open"}
    return sorted(held, key=lambda c: (c != "CNY", c)) or ["CNY"]


def _context(session: ReadOnlySession, customer_id: str) -> dict:
    view: LimitsOverview = limits.overview(session, customer_id, channel=CHANNEL)
    currencies = _currencies(session, customer_id)
    own = {(o.method, o.currency): o for o in view.own_limits}
    bank = {(b.method, b.currency): b for b in view.bank_limits}
    lines = [u for u in view.usage if u.currency in currencies]
    lines.sort(key=lambda u: (currencies.index(u.currency), METHODS.index(u.method)))
    return {
        "view": view,
        "currencies": currencies,
        "lines": lines,
        "own": own,
        "bank": bank,
        "switch_names": SWITCH_NAMES,
        "switch_icons": SWITCH_ICONS,
    }


def _line(ctx: dict, method: str, currency: str) -> UsageLine | None:
    return next((u for u in ctx["lines"] if u.method == method and u.currency == currency), None)


@router.get("/limits")
def limits_page(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    t = translator(request)
    return render(
        request,
        "pages/limits.html",
        title=t("limits.title"),
        tab="limits",
        back="/settings",
        form_errors={},
        form_values={},
        **_context(session, customer.id),
    )


def _switch_value(on: str) -> bool:
    if on not in ("true", "false"):
        raise ValidationFailed("a switch is on (true) or off (false)")
    return on == "true"


@router.api_route("/limits/switches/{name}", methods=["PUT", "POST"], dependencies=[Depends(csrf.verify)])
def set_switch(
    request: Request,
    name: Annotated[str, Path(max_length=40)],
    customer: CurrentCustomer,
    session: ReadOnlySession,
    on: Annotated[str, Form(max_length=5)],
    step_up: StepUpField = None,
) -> Response:
    t = translator(request)
    if name not in SWITCH_NAMES:
        raise ValidationFailed("unknown switch")
    value = _switch_value(on)
    session.close()
    get_db().run(lambda s: limits.set_switches(s, customer_id=customer.id, changes={name: value},
                                               principal=customer, step_up=step_up))
    if not is_htmx(request):
        return redirect(request, "/limits")
    with get_db().read_session() as fresh:
        switches = limits.get_switches(fresh, customer.id)
    state = t("limits.switch.on" if value else "limits.switch.off")
    return render(
        request,
        "partials/switch_row.html",
        name=name,
        on=getattr(switches, name),
        switch_icons=SWITCH_ICONS,
        announce=t("limits.switch.saved", switch=t(f"limits.switch.{name}"), state=state),
    )


def _parse_limit(raw: str, currency: str) -> int | None:
    text = raw.strip()
    if not text:
        return None  # no own limit: the bank's applies
    value = parse_major(text, currency)  # ValueError for anything that is not an exact amount
    if not 0 <= value <= MAX_AMOUNT_MINOR:
        raise ValueError("out of range")
    return value


@router.api_route("/limits/own/{method}", methods=["PUT", "POST"], dependencies=[Depends(csrf.verify)])
def set_own_limit(
    request: Request,
    method: Annotated[str, Path(max_length=40)],
    customer: CurrentCustomer,
    session: ReadOnlySession,
    currency: Annotated[str, Form(max_length=3)] = "CNY",
    per_transaction: Annotated[str, Form(max_length=40)] = "",
    daily: Annotated[str, Form(max_length=40)] = "",
    step_up: StepUpField = None,
) -> Response:
    t = translator(request)
    if method not in METHODS or currency not in CURRENCY_EXPONENT:
        raise ValidationFailed("unknown method or currency")
    values = {"per_transaction": per_transaction, "daily": daily}
    errors: dict[str, str] = {}
    parsed: dict[str, int | None] = {}
    for field, raw in values.items():
        try:
            parsed[field] = _parse_limit(raw, currency)
        except ValueError:
            errors[field] = t("limits.error.amount")
    saved = False
    if not errors:
        try:
            get_db().run(
                lambda s: limits.set_own_limit(
                    s,
                    customer_id=customer.id,
                    method=method,
                    currency=currency,
                    per_transaction_minor=parsed["per_transaction"],
                    daily_minor=parsed["daily"],
                    principal=customer,
                    step_up=step_up,
                )
            )
            saved = True
        except StepUpRequired:
            raise  # the page route asks for the second factor, then posts this form again
        except AtriumError as exc:
            errors["form"] = messages.describe(exc, t, currency=currency)
    session.close()
    if saved and not is_htmx(request):
        return redirect(request, "/limits")
    with get_db().read_session() as fresh:
        ctx = _context(fresh, customer.id)
    status = 200 if saved else 422
    key = (method, currency)
    if not is_htmx(request):
        return render(
            request,
            "pages/limits.html",
            status_code=status,
            title=t("limits.title"),
            tab="limits",
            back="/settings",
            form_errors={key: errors},
            form_values={key: values},
            **ctx,
        )
    line = _line(ctx, method, currency)
    if line is None:
        raise ValidationFailed("no such limit")
    return render(
        request,
        "partials/limit_card.html",
        status_code=status,
        u=line,
        own=ctx["own"],
        bank=ctx["bank"],
        errors=errors,
        values=values if errors else None,
        open_form=bool(errors),
        announce=t("limits.own.saved") if saved else errors.get("form") or t("transfer.error.summary"),
    )
