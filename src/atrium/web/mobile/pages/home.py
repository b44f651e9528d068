"""Home: total balance per currency, account cards, recent transactions and quick actions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from atrium.accounts import service as accounts
from atrium.accounts.schemas import StatementFilters
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import presenters
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, translator

router = APIRouter(route_class=PageRoute)
RECENT = 5


@router.get("/")
def home(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    t = translator(request)
    profile = identity.get_customer(session, customer.id)
    every = accounts.list_for_customer(session, customer.id)
    open_accounts = [a for a in every if a.status == "open"]
    pages = [
        (
            a,
            accounts.statement_page(
                session, customer_id=customer.id, account_id=a.id, filters=StatementFilters(), limit=RECENT
            ).entries,
        )
        for a in open_accounts
    ]
    return render(
        request,
        "pages/home.html",
        title=t("home.title"),
        tab="home",
        name=profile.display_name if profile else "",
        greeting=t(presenters.greeting_key(clock.now())),
        accounts=open_accounts,
        totals=presenters.totals_by_currency(open_accounts),
        recent=presenters.merge_recent(pages, RECENT),
        account_name=lambda a: presenters.account_name(a, t),
        entry_title=lambda e: presenters.entry_title(e, t),
        entry_icon=presenters.entry_icon,
    )
