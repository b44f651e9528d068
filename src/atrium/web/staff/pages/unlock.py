"""A customer's sign-in lock, and unlocking it with a stated reason.

GET shows the lock (state, since, until, failed sign-ins, recent temporary locks); it shows customer data,
so it is recorded in the staff access audit (`customer.view`, screen "customer.lock"). POST lifts the lock:
`identity.protection.lockout.unlock` and the audit record `customer.unlock` (with the reason and the lock
that was lifted) commit in one transaction, or neither does. A reason is required; a customer who is no
longer locked (someone else unlocked them, or the temporary lock ran out) is shown as such, not unlocked
twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import service as identity
from atrium.identity.protection import lockout
from atrium.identity.protection.errors import CustomerNotFound, NotLocked, UnlockReasonRequired
from atrium.kit.errors import ValidationFailed
from atrium.staff import service as staff
from atrium.staff.domain import mask_name, mask_username
from atrium.web.deps import WriteSession
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.routing import ConsoleUser, StaffPageRoute, permit
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)
CustomerId = Annotated[str, Path(max_length=40)]
_REASON_CAP = 1000  # the domains check the real limit (200) for a clear message


def _lock_url(customer_id: str) -> str:
    return f"/staff/customers/{customer_id}/lock"


def _page(
    request: Request, user: ConsoleUser, session, customer_id: str, *,  # type: ignore[no-untyped-def]
    status_code: int = 200, reason: str = "", error: str | None = None, done: bool = False,
) -> Response:
    customer = identity.get_customer(session, customer_id)
    if customer is None:
        raise CustomerNotFound("no such customer")
    access = staff.record_access(
        session, staff_id=user.id, staff_role=user.role, action="customer.view", customer_id=customer.id,
        screen="customer.lock",
    )
    lock = lockout.status(session, customer.id)
    t = translator(request)
    name = mask_name(customer.display_name)
    return render(
        request,
        "staff/customer_lock.html",
        status_code=status_code,
        title=t("lock.title", name=name),
        nav="customers",
        customer_id=customer.id,
        masked_name=name,
        masked_username=mask_username(customer.username),
        lock=lock,
        window_h=lockout.policy().permanent_window_h,
        access=access,
        reason=reason,
        error=error,
        done=done,
    )


@router.get("/staff/customers/{customer_id}/lock")
def lock_page(
    request: Request,
    customer_id: CustomerId,
    user: Annotated[ConsoleUser, permit("customers.view")],
    session: WriteSession,
    done: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    return _page(request, user, session, customer_id, done=done == "1")


@router.post("/staff/customers/{customer_id}/unlock", dependencies=[Depends(csrf.verify)])
def unlock(
    request: Request,
    customer_id: CustomerId,
    user: Annotated[ConsoleUser, permit("customers.unlock")],
    reason: Annotated[str, Form(max_length=_REASON_CAP)] = "",
) -> Response:
    t = translator(request)

    def work(s) -> None:  # type: ignore[no-untyped-def]
        before = lockout.unlock(s, customer_id, user.id, reason)
        staff.record_access(
            s, staff_id=user.id, staff_role=user.role, action="customer.unlock", customer_id=customer_id,
            screen="customer.lock", reason=reason, detail=f"lock={before.state}",
        )

    try:
        get_db().run(work)
    except (UnlockReasonRequired, NotLocked, ValidationFailed) as exc:  # the form again, with the reason
        code = f"error.{exc.code}"
        message = t(code) if t.has(code) else t("error.validation-failed")
        status_code = 409 if isinstance(exc, NotLocked) else 422
        with get_db().unit_of_work() as s:
            return _page(request, user, s, customer_id, status_code=status_code, reason=reason, error=message)
    return redirect(request, f"{_lock_url(customer_id)}?done=1")
