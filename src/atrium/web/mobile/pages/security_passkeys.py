"""Security › Passkeys: the customer's passkeys (name, added, last used), adding one (named) and removing
one (confirmed with a step-up). The ceremonies run in the browser (static/js/passkeys.js) against the
/api/v1/auth/passkeys endpoints; this page only lists and explains."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.identity.passkeys import service as passkeys
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, translator

router = APIRouter(route_class=PageRoute)
OUTCOMES = ("added", "removed")


@router.get("/security/passkeys")
def passkeys_page(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    return render(
        request,
        "pages/security/passkeys.html",
        title=translator(request)("passkeys.title"),
        tab="me",
        back="/security",
        passkeys=passkeys.list_passkeys(session, customer.id),
        done=done if done in OUTCOMES else None,
        needs_second_factor=customer.loa < 2,
    )
