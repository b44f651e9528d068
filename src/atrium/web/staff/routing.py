"""Who may open a console page, and how console pages fail: as pages, never as JSON problems.

Every console page depends on `permit(action)`: it resolves the staff session (`CurrentStaff`, so the
public-route audit sees the page is protected), loads the staff user, binds the request's origin (the
session's public id and the client address) to the access audit (`atrium.staff.service.bind_origin`), and
checks the role against `atrium.staff.permissions`. `StaffPageRoute` then turns a failure into a page:

- no session, or an expired one → 303 to /staff/login (htmx: `HX-Redirect`);
- a customer's session → 403 page (the console is for staff; the page links to the staff sign-in);
- a role without the action → 403 page; a CSRF failure → 403 page;
- any other domain error → an error page with the error's own status; malformed input → 400 page.

The response is raised inside the mobile app's `PageInterrupt`, so a unit of work still rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from atrium.db.runtime import get_db
from atrium.identity import service as identity
from atrium.kit.errors import AtriumError, Forbidden, Unauthenticated
from atrium.staff import permissions
from atrium.staff import service as staff_service
from atrium.web.deps import CurrentStaff, client_info
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageInterrupt, install_handlers
from atrium.web.mobile.templating import finish, is_htmx, redirect
from atrium.web.staff.templating import render

HOME = "/staff"
LOGIN_PATH = "/staff/login"


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in staff member as the console shows and checks them."""

    id: str
    username: str
    display_name: str
    role: str
    can: frozenset[str]
    token_hash: str | None
    session_ref: str | None = None  # the session's public id (`auth_sessions.sid`), never its token
    ip: str = ""  # the client address, as `client_info` determines it


def _console_user(request: Request, staff: CurrentStaff) -> ConsoleUser:
    cached = getattr(request.state, "console_user", None)
    if cached is not None:
        return cached
    with get_db().read_session() as session:
        row = identity.get_staff(session, staff.id)
    if row is None:
        raise Unauthenticated("the staff user no longer exists")
    user = ConsoleUser(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        can=permissions.actions_of(row.role),
        token_hash=staff.token_hash,
        session_ref=staff.sid,
        ip=client_info(request).ip,
    )
    request.state.console_user = user  # the page and its error page show who is signed in
    return user


async def _audited_user(user: Annotated[ConsoleUser, Depends(_console_user)]) -> ConsoleUser:
    """The signed-in staff member, with the request's access records attributed to their session and
    address. Async on purpose: it runs in the request's own task, whose context the page's sync code
    copies into its worker thread; a sync dependency would bind in a copy of its own, lost on return."""
    staff_service.bind_origin(staff_service.AccessOrigin(session_ref=user.session_ref, ip=user.ip))
    return user


# Any signed-in staff member, whatever their role (the console's own "page not found").
SignedInStaff = Annotated[ConsoleUser, Depends(_audited_user)]


def permit(action: str) -> Any:
    """`user: Annotated[ConsoleUser, permit("customers.view")]`: the page's policy in its signature."""
    if action not in permissions.ACTIONS:
        raise ValueError(f"unknown staff action {action!r}")

    def dependency(user: Annotated[ConsoleUser, Depends(_audited_user)]) -> ConsoleUser:
        permissions.require(user.role, action)
        return user

    dependency.__name__ = f"permit_{action.replace('.', '_')}"
    return Depends(dependency)


def safe_console_next(value: str | None) -> str:
    """Only a console path (no open redirect, and no bouncing a staff member into the customer app)."""
    if not value or not (value == HOME or value.startswith(HOME + "/") or value.startswith(HOME + "?")):
        return HOME
    if value.startswith("//") or "\\" in value or any(ord(ch) < 32 for ch in value):
        return HOME
    return value


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = LOGIN_PATH if target == HOME else f"{LOGIN_PATH}?next={quote(target, safe='/')}"
    if is_htmx(request):
        return finish(request, Response(status_code=401, headers={"HX-Redirect": url}))
    return redirect(request, url)


def error_page(request: Request, status: int, code: str) -> Response:
    return render(request, "staff/error.html", status_code=status, status=status, code=code)


def _to_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, csrf.CsrfFailed):
        return error_page(request, 403, exc.code)
    if isinstance(exc, Unauthenticated):
        return login_redirect(request)
    if isinstance(exc, Forbidden) and exc.code == "forbidden":
        return error_page(request, 403, "not-staff")  # a customer's session on a staff page
    if isinstance(exc, AtriumError):
        return error_page(request, exc.status, exc.code)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 400, "bad-request")
    raise exc


class StaffPageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await original(request)
            except (AtriumError, RequestValidationError) as exc:
                raise PageInterrupt(_to_response(request, exc)) from exc

        return page_handler


__all__ = [
    "HOME",
    "LOGIN_PATH",
    "ConsoleUser",
    "SignedInStaff",
    "StaffPageRoute",
    "error_page",
    "install_handlers",
    "login_redirect",
    "permit",
    "safe_console_next",
]
