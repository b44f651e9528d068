"""/dev/sms: the development outbox — the latest text messages with masked recipients and their full
text, so a demo (or a tester) can read the codes the bank "sent", and the latest push notifications (the
outbox push sender's, or what Web Push handed to browsers). Never served in production: `mounted()` says
whether the app should include this router, and the route itself answers 404 there as well."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.kit.errors import NotFound
from atrium.notify import service as notify
from atrium.notify.errors import InvalidPhone
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import render, translator

router = APIRouter(route_class=PageRoute)
PATH = "/dev/sms"


def mounted() -> bool:
    """Whether this environment may show the outbox (development and test only)."""
    return get_settings().env != "production"


@router.get(PATH)
def outbox_page(
    request: Request,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Public in development (the demo reads sign-in and registration codes before anyone is signed in)."""
    if not mounted():
        raise NotFound("no such page")
    error = False
    with get_db().read_session() as s:
        try:
            messages = notify.outbox(s, phone=phone or None, limit=limit)
        except InvalidPhone:
            messages, error = [], True
        pushes = [] if phone else notify.push_outbox(s, limit=limit)
    return render(request, "pages/dev/outbox.html", title=translator(request)("dev.outbox.title"),
                  messages=messages, phone=phone or "", phone_error=error, pushes=pushes)
