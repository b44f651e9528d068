"""An account's statement: header with balances, filters (dates, in/out), entries newest first with an
htmx "load more" that follows the statement cursor, and links to the CSV and PDF exports."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.accounts import service as accounts
from atrium.accounts.errors import InvalidStatementQuery
from atrium.accounts.schemas import DepositAccountRead, StatementFilters, StatementPage
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import presenters
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import is_htmx, render, translator

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 20
DIRECTIONS = ("all", "in", "out")


class _Query:
    """The statement's query string, parsed leniently: a bad value becomes an inline error, not a 422."""

    def __init__(self, date_from: str, date_to: str, direction: str) -> None:
        self.raw_from, self.raw_to = date_from.strip(), date_to.strip()
        self.direction = direction if direction in DIRECTIONS else "all"
        self.error: str | None = None
        self.date_from = self._date(self.raw_from)
        self.date_to = self._date(self.raw_to)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            self.error = "statement.error.range"

    def _date(self, raw: str) -> date | None:
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error = "statement.error.date"
            return None

    def filters(self) -> StatementFilters:
        return StatementFilters(
            date_from=self.date_from,
            date_to=self.date_to,
            direction=None if self.direction == "all" else self.direction,  # type: ignore[arg-type]
        )

    def params(self, **extra: str) -> str:
        values = {"from": self.raw_from, "to": self.raw_to, "direction": self.direction, **extra}
        return urlencode({k: v for k, v in values.items() if v and not (k == "direction" and v == "all")})

    @property
    def active(self) -> bool:
        return bool(self.raw_from or self.raw_to or self.direction != "all")


def export_url(account: DepositAccountRead, fmt: str, q: _Query, locale: str) -> str:
    """The accounts API's export of the filtered period (this month when no dates are given). The API
    accepts the session cookie, so a plain link downloads it; the CSV's headers follow the page's language."""
    params = [(k, v.isoformat()) for k, v in (("from", q.date_from), ("to", q.date_to)) if v]
    if fmt == "csv":
        params.append(("lang", locale))
    query = urlencode(params)
    return f"/api/v1/accounts/{account.id}/statement.{fmt}" + (f"?{query}" if query else "")


def _page(
    session: ReadOnlySession, customer_id: str, account_id: str, q: _Query, cursor: str | None
) -> tuple[StatementPage | None, str | None]:
    if q.error:
        return None, q.error
    try:
        return accounts.statement_page(
            session,
            customer_id=customer_id,
            account_id=account_id,
            filters=q.filters(),
            cursor=cursor,
            limit=PAGE_SIZE,
        ), None
    except InvalidStatementQuery:
        # A cursor from other filters or a tampered one: start again from the newest entry.
        return accounts.statement_page(
            session, customer_id=customer_id, account_id=account_id, filters=q.filters(), limit=PAGE_SIZE
        ), None


QueryText = Annotated[str, Query(max_length=40)]


def _helpers(t: Translator) -> dict[str, object]:
    return {
        "entry_title": lambda e: presenters.entry_title(e, t),
        "entry_icon": presenters.entry_icon,
        "local_day": presenters.local_day,
    }


@router.get("/accounts/{account_id}")
def statement(
    request: Request,
    account_id: str,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    date_from: Annotated[str, Query(alias="from", max_length=40)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=40)] = "",
    direction: QueryText = "all",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    t = translator(request)
    account = accounts.get_owned(session, customer_id=customer.id, account_id=account_id)
    q = _Query(date_from, date_to, direction)
    page, error = _page(session, customer.id, account.id, q, cursor)
    return render(
        request,
        "pages/statement.html",
        title=presenters.account_name(account, t),
        back="/",
        tab="home",
        account=account,
        q=q,
        error=error,
        page=page,
        after_day=None,
        older=cursor is not None,
        csv_url=export_url(account, "csv", q, t.locale),
        pdf_url=export_url(account, "pdf", q, t.locale),
        **_helpers(t),
    )


@router.get("/accounts/{account_id}/entries")
def statement_entries(
    request: Request,
    account_id: str,
    customer: CurrentCustomer,
    session: ReadOnlySession,
    cursor: Annotated[str, Query(max_length=400)],
    date_from: Annotated[str, Query(alias="from", max_length=40)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=40)] = "",
    direction: QueryText = "all",
    after_day: QueryText = "",
) -> Response:
    """The next page of entries as list items (htmx replaces the "load more" item with them)."""
    t = translator(request)
    account = accounts.get_owned(session, customer_id=customer.id, account_id=account_id)
    q = _Query(date_from, date_to, direction)
    page, _ = _page(session, customer.id, account.id, q, cursor)
    try:
        last_day = date.fromisoformat(after_day) if after_day else None
    except ValueError:
        last_day = None
    template = "partials/entries.html" if is_htmx(request) else "pages/statement.html"
    return render(
        request,
        template,
        title=presenters.account_name(account, t),
        back="/",
        tab="home",
        account=account,
        q=q,
        error=None,
        page=page,
        after_day=last_day,
        older=True,
        announce=is_htmx(request),
        csv_url=export_url(account, "csv", q, t.locale),
        pdf_url=export_url(account, "pdf", q, t.locale),
        **_helpers(t),
    )
