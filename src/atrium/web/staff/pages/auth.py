"""Staff sign in and sign out (`atrium.identity.login.staff_with_password`), with the same session cookie
and CSRF protection as the mobile app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from atrium.db.runtime import get_db
from atrium.identity import login
from atrium.identity.errors import InvalidCredentials
from atrium.web.deps import client_info, end_cookie_session, session_principal, set_session_cookie
from atrium.web.mobile import csrf
from atrium.web.mobile.templating import redirect
from atrium.web.staff.routing import LOGIN_PATH, StaffPageRoute, safe_console_next
from atrium.web.staff.templating import render, translator

router = APIRouter(route_class=StaffPageRoute)


def _form(
    request: Request, *, status_code: int = 200, next_url: str, username: str = "", error: str | None = None
) -> Response:
    return render(
        request,
        "staff/login.html",
        status_code=status_code,
        title=translator(request)("login.title"),
        next=next_url,
        username=username,
        error=error,
    )


@router.get(LOGIN_PATH)
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query's name
    principal = session_principal(request)
    if principal is not None and principal.kind == "staff":
        return redirect(request, safe_console_next(next))
    return _form(request, next_url=safe_console_next(next))


@router.post(LOGIN_PATH, dependencies=[Depends(csrf.verify)])
def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "/staff",  # noqa: A002 - the form field's name
) -> Response:
    target = safe_console_next(next)
    if not username.strip() or not password:
        return _form(
            request, status_code=422, next_url=target, username=username, error="login.error.missing"
        )
    client = client_info(request)
    try:
        token = get_db().run(
            lambda s: login.staff_with_password(
                s, username=username.strip(), password=password, client=client
            )
        ).token
    except InvalidCredentials:
        return _form(
            request, status_code=401, next_url=target, username=username, error="login.error.invalid"
        )
    response = redirect(request, target)
    set_session_cookie(response, token)
    return response


@router.post("/staff/logout", dependencies=[Depends(csrf.verify)])
def logout(request: Request) -> Response:
    response = redirect(request, LOGIN_PATH)
    end_cookie_session(request, response)
    return response
