"""How page routes fail: as pages, never as JSON problems.

`PageRoute` is the route class of every mobile page. A page depends on `CurrentCustomer` like an API
endpoint does (so the public-route audit sees it is protected); when that raises, the page route turns it
into a 303 to /login (or an `HX-Redirect` for htmx), a CSRF failure into a 403 page, and any other domain
error into an error page with the error's own status.

The converted response is raised inside `PageInterrupt` rather than returned, so the exception still
travels through the request's dependency stack and a unit of work rolls back; `install_handlers` answers
it with the response it carries.

Before the handler runs, the route installs the app shell's bottom tabs on `request.state.nav_tabs`
(`shell.install`): lazily, so they are looked up in the catalogue for the signed-in viewer only when the
page actually draws its tab bar.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from atrium.identity.errors import StepUpRequired
from atrium.kit.errors import AtriumError, Forbidden, Unauthenticated
from atrium.web.mobile import csrf, shell, stepup_view
from atrium.web.mobile.templating import finish, is_htmx, redirect, render

LOGIN_PATH = "/login"


class PageInterrupt(Exception):  # noqa: N818 - not an error: it carries the page that answers one
    def __init__(self, response: Response) -> None:
        super().__init__("page interrupted")
        self.response = response


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = LOGIN_PATH if target == "/" else f"{LOGIN_PATH}?next={quote(target, safe='/')}"
    if is_htmx(request):
        # The session ended while the page was open: reload the whole page at the login form.
        return finish(request, Response(status_code=401, headers={"HX-Redirect": url}))
    return redirect(request, url)


def error_page(request: Request, status: int, code: str) -> Response:
    return render(request, "error.html", status_code=status, status=status, code=code)


def _to_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, csrf.CsrfFailed):
        return error_page(request, 403, exc.code)
    if isinstance(exc, Unauthenticated):
        return login_redirect(request)
    if isinstance(exc, Forbidden) and exc.code == "forbidden":
        # A staff session on a customer page: the customer has to sign in as a customer.
        return login_redirect(request)
    if isinstance(exc, AtriumError):
        return error_page(request, exc.status, exc.code)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 400, "bad-request")
    raise exc


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return request.method in ("POST", "PUT", "PATCH") and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data"))


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            shell.install(request)
            try:
                return await original(request)
            except StepUpRequired as exc:
                # The use case wants a second factor first: ask for it, keeping the form to post again.
                form = await request.form() if _is_form(request) else {}
                raise PageInterrupt(stepup_view.from_error(request, exc, form)) from exc
            except (AtriumError, RequestValidationError) as exc:
                raise PageInterrupt(_to_response(request, exc)) from exc

        return page_handler


def install_handlers(app: FastAPI) -> None:
    async def _interrupt(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageInterrupt)
        return exc.response

    app.add_exception_handler(PageInterrupt, _interrupt)
