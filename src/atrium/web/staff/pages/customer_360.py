"""The customer 360 page and its sections, masked; every load recorded in the access audit.

GET /staff/customers/{id}[?tab=…&reason=…] renders the page with one section (overview by default): one
`customer.view` record, screen "customer.360". The section links load a section alone through htmx
(GET …/sections/{name}): one record each, screen "customer.section" — so what the audit says a staff
member saw is what the page showed them. Without JavaScript the links are plain links to the page with
`?tab=`, and a direct GET of a section URL is sent there (303, nothing read, nothing recorded).

The reason travels in the query string from the search form to the page and on to every section and
account or transfer link, so each record says why.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from atrium.kit.errors import NotFound, ValidationFailed
from atrium.staff import service as staff
from atrium.web.deps import WriteSession
from atrium.web.mobile.templating import is_htmx, redirect
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
CustomerId = Annotated[str, Path(max_length=40)]
# The staff domain checks the real limit (200 characters, no control characters) for a clear 422.
Reason = Annotated[str, Query(max_length=1000)]


def customer_url(customer_id: str, *, tab: str = "overview", reason: str = "") -> str:
    query = {k: v for k, v in (("tab", "" if tab == "overview" else tab), ("reason", reason.strip())) if v}
    return f"/staff/customers/{customer_id}" + (f"?{urlencode(query)}" if query else "")


def section_url(customer_id: str, section: str, reason: str) -> str:
    query = f"?{urlencode({'reason': reason.strip()})}" if reason.strip() else ""
    return f"/staff/customers/{customer_id}/sections/{section}{query}"


def with_reason(path: str, reason: str) -> str:
    """A link to another customer screen that carries the reason on."""
    return path + (f"?{urlencode({'reason': reason.strip()})}" if reason.strip() else "")


@router.get("/staff/customers/{customer_id}")
def customer_page(
    request: Request,
    customer_id: CustomerId,
    user: Annotated[ConsoleUser, permit("customers.view")],
    session: WriteSession,
    reason: Reason = "",
    tab: Annotated[str, Query(max_length=20)] = "overview",
) -> Response:
    view = staff.view_customer(
        session, staff_id=user.id, staff_role=user.role, customer_id=customer_id, reason=reason or None,
        section=tab,
    )
    can_reveal = "customers.unmask" in user.can
    left = staff.reveals_left(session, user.id)[0] if can_reveal else 0
    return render(
        request,
        "staff/customer.html",
        title=translator(request)("customer.title", name=view.customer.masked_name),
        nav="customers",
        view=view,
        section=view.section,
        reason=reason.strip(),
        sections=staff.SECTIONS,
        customer_url=customer_url,
        section_url=section_url,
        with_reason=with_reason,
        can_reveal=can_reveal,
        reveals_left=left,
        categories=staff.REVEAL_CATEGORIES,
    )


@router.get("/staff/customers/{customer_id}/sections/{section}")
def customer_section(
    request: Request,
    customer_id: CustomerId,
    section: Annotated[str, Path(max_length=20)],
    user: Annotated[ConsoleUser, permit("customers.view")],
    session: WriteSession,
    reason: Reason = "",
) -> Response:
    if not is_htmx(request):
        if section not in staff.SECTIONS:
            section = "overview"
        return redirect(request, customer_url(customer_id, tab=section, reason=reason))
    t = translator(request)
    try:
        view = staff.view_section(
            session, staff_id=user.id, staff_role=user.role, customer_id=customer_id, section=section,
            reason=reason or None,
        )
    except (NotFound, ValidationFailed) as exc:  # into the section's place, not a whole error page
        code = f"error.{exc.code}"
        return render(request, "staff/partials/section_error.html", status_code=exc.status,
                      message=t(code) if t.has(code) else t("error.generic"))
    return render(
        request,
        "staff/partials/customer_section.html",
        view=view,
        section=view.section,
        customer_id=view.customer.id,
        reason=reason.strip(),
        sections=staff.SECTIONS,
        customer_url=customer_url,
        section_url=section_url,
        with_reason=with_reason,
        announce=t("customer.section.loaded", section=t(f"customer.section.{section}")),
    )
