"""Multiple identities, one app: the identities this login can act as, and the switch between them.

`GET /identities` lists the customer's identities (the person first, then the companies they operate and
the merchants they run) with the one the session acts as marked; `POST /identities/{id}/switch` makes the
session act as another (the identity domain's `switch`: another customer's id is 404, audited). After a
switch the home, the services, the bottom tabs and the organisation pages (/biz, /merchant) follow the
new identity, because the app shell builds its catalogue viewer from the session's current identity on
every request.

`need` (a query parameter set by /biz and /merchant when the session does not act as that kind) explains
why the person landed here; its value is only ever compared with the identity kinds, never echoed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import identities
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import csrf, shell
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
IdentityId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("/identities")
def identities_page(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession,
    switched: str | None = None, need: str | None = None,
) -> Response:
    current = identities.current_identity(session, customer)
    listed = identities.list_identities(session, customer.id, current_id=current.id if current else None)
    wanted = need if need in identities.ORGANISATION_KINDS else None
    return render(
        request, "pages/identities.html", title=translator(request)("shell.identities.title"), tab="me",
        back="/", identities=listed, current=current, switched=switched == "1" and current is not None,
        need=wanted, has_needed=any(i.kind == wanted for i in listed),
        identity_icon=shell.identity_icon, identity_name=shell.identity_name, page_of=shell.identity_page,
    )


@router.post("/identities/{identity_id}/switch", dependencies=[Depends(csrf.verify)])
def switch_identity(request: Request, identity_id: IdentityId, customer: CurrentCustomer) -> Response:
    """Act as another of the customer's identities in this session, then land on the home, which now shows
    that identity's services (another customer's identity: 404, as for one that does not exist)."""
    get_db().run(lambda s: identities.switch(s, customer, identity_id))
    return redirect(request, "/?switched=1")
