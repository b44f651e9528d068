"""Home: the person's money at a glance, and the rest assembled from the service catalogue.

What the home shows for a viewer (the signed-in customer in the identity their session acts as):

- the identity chip: who you act as (person, company, merchant), linking to the identity switcher;
- acting as the person: total balance per currency, the account cards and the recent entries (an
  organisation identity sees its organisation card instead — its overview is /biz or /merchant);
- quick functions: `catalog.service.home_quick` — the visible services placed "quick", ordered by the
  ranking seam (see below);
- "frequently used": `catalog.service.frequently_used` — the services this person opened most (through
  /go) in this identity kind and can still see;
- notices: the messages domain's current notices for this identity kind, and the unread count on the
  messages entry.

Nothing is hard-coded: a service appears here only because the catalogue returns it for this viewer.

Elder mode (`request.state.ui_mode == "elder"`) shows fewer items (`LAYOUTS`), drawn larger by shell.css.

The ranking seam: the quick row's order is not decided here. `home_quick` hands the candidates (every
visible "quick" service) and the person's own use counts to `atrium.catalog.ranking.current_ranker()`,
and keeps whatever subset and order it returns, re-checked against the candidates. The default ranker
puts the person's most used services first, then the catalogue's rank. A recommendation service plugs in
by registering its own `Ranker` at start-up (`ranking.register_ranker(MyRanker())`, a `name` and
`rank(viewer, candidates, usage)`); the home page, its template and its tests do not change, and a faulty
ranker can reorder or drop services but never show one the viewer may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from atrium.accounts import service as accounts
from atrium.accounts.schemas import StatementFilters
from atrium.catalog import service as catalog
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.messages import service as messages
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import presenters, shell
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, translator

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True, slots=True)
class Layout:
    """How many items each part of the home shows."""

    quick: int
    frequent: int
    recent: int
    notices: int


LAYOUTS = {
    "standard": Layout(quick=8, frequent=4, recent=5, notices=3),
    # Elder mode: fewer, larger items — one row of quick functions, the two most used services.
    "elder": Layout(quick=4, frequent=2, recent=3, notices=1),
}


def layout_for(ui_mode: str) -> Layout:
    return LAYOUTS.get(ui_mode, LAYOUTS["standard"])


@router.get("/")
def home(request: Request, customer: CurrentCustomer, session: ReadOnlySession, switched: str | None = None
         ) -> Response:
    t = translator(request)
    ctx = shell.context(request, session)
    layout = layout_for(shell.ui_mode(request))
    profile = identity.get_customer(session, customer.id)
    personal = ctx.kind == "person"
    open_accounts = [a for a in accounts.list_for_customer(session, customer.id) if a.status == "open"] \
        if personal else []
    pages = [
        (a, accounts.statement_page(session, customer_id=customer.id, account_id=a.id,
                                    filters=StatementFilters(), limit=layout.recent).entries)
        for a in open_accounts
    ]
    quick = catalog.home_quick(session, ctx.viewer, limit=layout.quick)
    frequent = catalog.frequently_used(session, ctx.viewer, limit=layout.frequent)
    notices = messages.current_notices(session, customer.id, locale=t.locale, identity_kind=ctx.kind,
                                       limit=layout.notices)
    return render(
        request,
        "pages/home.html",
        title=t("home.title"),
        tab="home",
        name=profile.display_name if profile else "",
        greeting=t(presenters.greeting_key(clock.now())),
        acting=ctx.identity,
        acting_name=shell.identity_name(ctx.identity, t),
        acting_icon=shell.identity_icon(ctx.identity),
        acting_role=shell.role_label(ctx.identity.role, t) if ctx.identity and ctx.identity.role else "",
        org_page=shell.identity_page(ctx.identity),
        switched=switched == "1",
        personal=personal,
        accounts=open_accounts,
        totals=presenters.totals_by_currency(open_accounts),
        recent=presenters.merge_recent(pages, layout.recent),
        quick=quick,
        frequent=frequent,
        notices=notices,
        unread=messages.unread_count(session, customer.id),
        href=shell.tile_href,
        account_name=lambda a: presenters.account_name(a, t),
        entry_title=lambda e: presenters.entry_title(e, t),
        entry_icon=presenters.entry_icon,
    )
