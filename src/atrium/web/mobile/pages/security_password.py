"""Security centre: change the password, with the policy's feedback inline.

The change needs a level-3 step-up ("password.change"): the first post raises StepUpRequired, which the
page route answers with the step-up page (`stepup_view`); that page posts the form again with the
completed challenge in `step_up`, and the change consumes the grant. The policy is checked before, so a
password that would be refused never costs the customer a code. A wrong current password counts towards
the lockout, in a transaction of its own (the change's rolls back). Other sessions are signed out.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import password_policy, service, sessions, stepup
from atrium.identity.otp.errors import PasswordRejected, WrongCurrentPassword
from atrium.identity.principal import Principal
from atrium.identity.protection import lockout
from atrium.web.deps import CurrentCustomer
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import redirect, render, request_locale, translator

router = APIRouter(route_class=PageRoute)
PAGE = "/security/password"


def _page(request: Request, *, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("errors", {})
    context.setdefault("violations", [])
    context.setdefault("done", False)
    context.setdefault("step_up", "")
    locale = request_locale(request)
    return render(request, "pages/security/password.html", status_code=status_code,
                  title=translator(request)("security.password.title"), tab="me", back="/settings",
                  min_length=password_policy.MIN_LENGTH,
                  violation_text={v: password_policy.describe(v, locale) for v in password_policy.VIOLATIONS},
                  **context)


@router.get(PAGE)
def password_page(
    request: Request, customer: CurrentCustomer, done: Annotated[str | None, Query(max_length=2)] = None
) -> Response:
    return _page(request, done=done == "1")


def _personal(principal: Principal) -> tuple[str, list[str]]:
    with get_db().read_session() as s:
        customer = service.get_customer(s, principal.id)
        if customer is None:
            return "", []
        phone = service.phone_of(customer)
        return customer.username, [customer.display_name, *([phone] if phone else [])]


def change(principal: Principal, *, old: str, new: str, step_up: str | None) -> None:
    """The change at the edge: step-up, policy and history, sign out elsewhere; a wrong current password
    is counted after the rollback."""
    def work(s):  # type: ignore[no-untyped-def]
        stepup.require(s, principal, action="password.change", elements={}, token=step_up)
        password_policy.change_password(s, principal.id, old, new)
        sessions.revoke_all(s, principal.id, except_sid=principal.sid)

    try:
        get_db().run(work)
    except WrongCurrentPassword:
        get_db().run(lambda s: lockout.record_failure(s, principal.id))
        raise


@router.post(PAGE, dependencies=[Depends(csrf.verify)])
def password_submit(
    request: Request,
    customer: CurrentCustomer,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    confirm_password: Annotated[str, Form(max_length=200)] = "",
    step_up: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    errors: dict[str, str] = {}
    username, personal = _personal(customer)
    violations = password_policy.check(new_password, username=username, personal=personal)
    if not current_password:
        errors["current"] = "security.password.error.current_missing"
    if new_password != confirm_password:
        errors["confirm"] = "security.password.error.mismatch"
    if not errors and not violations:
        try:
            change(customer, old=current_password, new=new_password, step_up=step_up or None)
            return redirect(request, f"{PAGE}?done=1")
        except WrongCurrentPassword:
            errors["current"] = "security.password.error.current"
        except PasswordRejected as exc:
            violations = list(exc.extra.get("violations", []))
    # After a step-up the passwords are not carried back (they never go into a page): ask for them again,
    # keeping the completed challenge in the form.
    return _page(request, status_code=422, errors=errors, violations=violations, step_up=step_up)
