"""All services: the catalogue's grid, its search, and /go — the one door every service tile opens through.

- `GET /services` shows the services the catalogue places in the "grid" for this viewer, grouped by
  business line in the catalogue's order, with names and icons in the page's language. With `q` it shows
  the catalogue's search results instead (names, descriptions and keywords, both languages, over the
  viewer's visible services). An htmx request (the search box, as the person types) gets only the results
  fragment; without JavaScript the search box is a plain GET form and the whole page comes back.
- `GET /go/{key}` counts one use of the service by the viewer (`catalog.record_use`, which feeds the
  home's "frequently used" row and the default ranker) and opens the service's target: a path on this
  site by redirect, an https address through a "you are leaving Atrium" page (the person confirms, and the
  link carries no referrer). A service the viewer may not see is 404, exactly like one that does not
  exist, so hidden keys cannot be probed.

Nothing here lists services: every tile, group and result is the catalogue's answer for the viewer
(`shell.context`), so a business line adds a service by configuration and it appears here unchanged.
`/go` is a GET because the tiles are links (open in a new tab, long-press, no JavaScript); the only
thing it writes is the viewer's own use count.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from atrium.catalog import service as catalog
from atrium.catalog.errors import ServiceNotFound
from atrium.catalog.schemas import ServiceRead
from atrium.web.deps import CurrentCustomer, ReadOnlySession, WriteSession
from atrium.web.mobile import shell
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import is_htmx, redirect, render, safe_next, translator

router = APIRouter(route_class=PageRoute)
QUERY_MAX = 60
ServiceKey = Annotated[str, Path(min_length=1, max_length=80)]


def grid(services: list[ServiceRead]) -> list[ServiceRead]:
    return [s for s in services if "grid" in s.placements]


@router.get("/services")
def services_page(
    request: Request, customer: CurrentCustomer, session: ReadOnlySession,
    q: Annotated[str, Query(max_length=QUERY_MAX)] = "",
) -> Response:
    ctx = shell.context(request, session)
    t = translator(request)
    text = " ".join(q.split())
    results = catalog.search(session, ctx.viewer, text, t.locale) if text else []
    groups = [] if text else shell.by_line(grid(catalog.visible_services(session, ctx.viewer)))
    context = {"q": text, "results": results, "groups": groups, "href": shell.tile_href}
    if is_htmx(request):
        return render(request, "pages/services/results.html", announce=True, **context)
    return render(request, "pages/services/index.html", title=t("shell.services.title"), tab="services",
                  **context)


def _leaving_host(target: str) -> str | None:
    """The host of an https target, or None when the target is not a well-formed https address."""
    parts = urlsplit(target)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return parts.hostname


@router.get("/go/{key}")
def open_service(
    request: Request, key: ServiceKey, customer: CurrentCustomer, session: WriteSession
) -> Response:
    """Count the use, then open the service (404 if the viewer may not see it)."""
    viewer = shell.context(request, session).viewer
    service = catalog.find_visible(session, viewer, key)
    if shell.is_external(service.target):
        host = _leaving_host(service.target)
        if host is None:
            raise ServiceNotFound("the service has no address this app can open", key=key)
        catalog.record_use(session, viewer, key)
        t = translator(request)
        return render(request, "pages/services/leaving.html", title=t("shell.leaving.title"),
                      back="/services", tab="services", service=service, host=host)
    target = safe_next(service.target, default="")
    if not target:
        raise ServiceNotFound("the service has no address this app can open", key=key)
    catalog.record_use(session, viewer, key)
    return redirect(request, target)
