"""/biz: the company overview for a session acting as a company operator.

What it shows comes from two places only: the session's identity (the company's name, its registration
number — masked — and the operator's role) and the catalogue's answer for this viewer (the enterprise
services this role may open; a service whose `permissions` list other roles is not visible, so it is
not listed), first those offered to company operators only, then the ones shared with personal banking
(security, messages…). It also says how to go back to acting as the person.

A session that does not act as a company operator is sent to /identities with a note (it may have no
company identity at all, or simply be acting as someone else): the page never shows a company the
session does not currently act for.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from atrium.catalog import service as catalog
from atrium.web.deps import CurrentCustomer, ReadOnlySession
from atrium.web.mobile import shell
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, translator

router = APIRouter(route_class=PageRoute)
PATH = "/biz"


def mask_reference(value: str) -> str:
    """A registration number with its middle hidden: the first and last four characters stay, so the
    operator can recognise it (a short one keeps only its last two)."""
    value = value.strip()
    if len(value) > 8:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    return "*" * max(len(value) - 2, 0) + value[-2:]


@router.get(PATH)
def biz_page(request: Request, customer: CurrentCustomer, session: ReadOnlySession) -> Response:
    ctx = shell.context(request, session)
    company = ctx.identity
    if company is None or company.kind != "company_operator":
        return redirect(request, "/identities?need=company_operator")
    t = translator(request)
    visible = catalog.visible_services(session, ctx.viewer)
    services = shell.organisation_services(visible, company.kind, PATH)
    shared = [s for s in visible if s not in services and s.target != PATH]
    person = shell.person_identity(session, customer.id)
    return render(
        request, "pages/biz.html", title=t("shell.biz.title"), tab=shell.current_tab(request, PATH), back="/",
        company=company, registration=mask_reference(company.org_ref),
        role=shell.role_label(company.role, t) if company.role else t("shell.role.none"),
        services=services, shared=shared, person=person, href=shell.tile_href,
    )
