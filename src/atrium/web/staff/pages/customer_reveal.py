"""Revealing one masked KYC field: POST /staff/customers/{id}/reveal/{field} with a reason category and a
reason in words. Needs `customers.unmask` (others get the 403 page, and the page shows them no button).

With htmx the answer replaces the field's row on the 360 page: the value, or the form again with what is
missing (422), or the limit reached (429, with Retry-After). Without JavaScript it is a page of its own.
The staff domain records the reveal (`customer.unmask`, the field's name in `detail`) in the transaction
that reads the value; a refused reveal reads and records nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.staff import service as staff
from atrium.staff.errors import FieldNotOnFile, InvalidReason, RevealLimitReached, RevealReasonRequired
from atrium.staff.schemas import RevealedField
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import is_htmx
from atrium.web.staff.pages.customer_360 import customer_url
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)


def _answer(
    request: Request, *, customer_id: str, field: str, status_code: int = 200,
    revealed: RevealedField | None = None, error: str | None = None, error_field: str | None = None,
    category: str = "", reason: str = "", retry_after: int | None = None,
) -> Response:
    """htmx: the revealed row (which replaces the masked one), or the form again in its own place (so the
    masked value, which this request did not read, stays as it is). Otherwise a page of its own."""
    t = translator(request)
    label = t(f"kyc.{field}") if t.has(f"kyc.{field}") else field
    context = {
        "customer_id": customer_id, "field": field, "revealed": revealed, "error": error,
        "error_field": error_field, "category": category, "reason_text": reason, "can_reveal": True,
        "categories": staff.REVEAL_CATEGORIES, "masked": None,
        "announce": t("kyc.revealed.announce", field=label) if revealed else error,
    }
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if is_htmx(request):
        template = "staff/partials/kyc_field.html" if revealed else "staff/partials/kyc_reveal_form.html"
        if not revealed:
            headers |= {"HX-Retarget": f"#kyc-form-{field}", "HX-Reswap": "outerHTML"}
        response = render(request, template, status_code=status_code, **context)
    else:
        response = render(
            request, "staff/customer_reveal.html", status_code=status_code, **context,
            title=t("kyc.reveal.title", field=label), nav="customers", back_url=customer_url(customer_id),
        )
    response.headers.update(headers)
    return response


@router.post("/staff/customers/{customer_id}/reveal/{field}", dependencies=[Depends(csrf.verify)])
def reveal(
    request: Request,
    customer_id: Annotated[str, Path(max_length=40)],
    field: Annotated[str, Path(max_length=20)],
    user: Annotated[ConsoleUser, permit("customers.unmask")],
    category: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    t = translator(request)
    answer = {"customer_id": customer_id, "field": field, "category": category, "reason": reason}
    try:
        revealed = get_db().run(lambda s: staff.reveal_field(
            s, staff_id=user.id, staff_role=user.role, customer_id=customer_id, field=field,
            category=category or None, reason=reason,
        ))
    except RevealReasonRequired as exc:
        which = str(exc.extra.get("field", "reason"))
        return _answer(request, **answer, status_code=422, error=t(f"kyc.error.{which}"), error_field=which)
    except InvalidReason:
        return _answer(request, **answer, status_code=422, error=t("error.invalid-access-reason"),
                       error_field="reason")
    except RevealLimitReached as exc:
        minutes = max(1, (exc.retry_after + 59) // 60)
        return _answer(request, **answer, status_code=429, error=t("kyc.error.limit", minutes=minutes),
                       retry_after=exc.retry_after)
    except FieldNotOnFile:
        return _answer(request, **answer, status_code=404, error=t("kyc.not_on_file"))
    return _answer(request, customer_id=customer_id, field=field, revealed=revealed)
