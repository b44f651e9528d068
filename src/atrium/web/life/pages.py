"""Atrium Life's pages. Life is an OpenID Connect relying party of the bank (client "atrium-life"): it has
no password of its own. /life/login starts an authorization-code + PKCE sign-in, /life/callback finishes
it (`oidc.relying_party`), and every page checks — and refreshes with rotation — the access token, so a
customer signed out of the bank is signed out of Life at the next page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.identity.oidc import relying_party
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.endpoints import issuer_of
from atrium.identity.oidc.schemas import RelyingPartyView
from atrium.kit.errors import AtriumError
from atrium.web.life.templating import render, translator
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageInterrupt
from atrium.web.mobile.templating import finish, safe_next

HOME = "/life"
LIFE_COOKIE = "atrium_life"
STATE_COOKIE = "atrium_life_state"
CALLBACK = "/life/callback"
SIGNED_OUT = "/life/signed-out"
# (catalogue key, icon, where in the main app the customer pays)
SERVICES = (
    ("utilities", "bank", "/transfer"),
    ("topup", "wallet", "/transfer"),
    ("transit", "qr", "/pay/qr"),
)


def _message(request: Request, *, heading: str, body: str, action: str, status: int = 200) -> Response:
    return render(
        request,
        "life/message.html",
        status_code=status,
        title=translator(request)(heading),
        heading=heading,
        body=body,
        action=action,
        status=status,
    )


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, csrf.CsrfFailed):
        return _message(
            request, heading="error.csrf", body="error.csrf.body", action="error.retry", status=403
        )
    if isinstance(exc, AtriumError) and exc.code == "oidc-sign-in-failed":
        return _message(
            request, heading="error.sign-in", body="error.sign-in.body", action="error.retry", status=400
        )
    status = exc.status if isinstance(exc, AtriumError) else 400
    return _message(
        request, heading="error.generic", body="error.generic.body", action="error.retry", status=status
    )


class LifeRoute(APIRoute):
    """Life's pages fail as Life pages (never JSON problems, never the bank's error page)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except (AtriumError, RequestValidationError) as exc:
                raise PageInterrupt(_error(request, exc)) from exc

        return handler


router = APIRouter(route_class=LifeRoute, include_in_schema=False)


def _secret() -> str:
    return oidc.default_client_secret(oidc.LIFE_CLIENT)


def _redirect(request: Request, url: str) -> Response:
    return finish(request, RedirectResponse(url, status_code=303))


def _signed_in(request: Request) -> RelyingPartyView | None:
    cookie = request.cookies.get(LIFE_COOKIE)
    if not cookie:
        return None
    issuer = issuer_of(request)
    return get_db().run(lambda s: relying_party.current(s, cookie, client_secret=_secret(), issuer=issuer))


def _to_login(request: Request) -> Response:
    response = _redirect(request, f"/life/login?{urlencode({'next': request.url.path})}")
    if request.cookies.get(LIFE_COOKIE):
        response.delete_cookie(LIFE_COOKIE, path=HOME)
    return response


@router.get(HOME)
def home(request: Request) -> Response:
    me = _signed_in(request)
    if me is None:
        return _to_login(request)
    return render(
        request, "life/home.html", title=translator(request)("home.title"), me=me, services=SERVICES
    )


def _life_next(value: str | None) -> str:
    target = safe_next(value, HOME)
    return target if target == HOME or target.startswith(HOME + "/") else HOME


@router.get("/life/login")
def login(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query's name
    issuer = issuer_of(request)
    target = _life_next(next)

    def work(session) -> tuple[str, str]:  # type: ignore[no-untyped-def]
        relying_party.ensure_client(session, client_id=oidc.LIFE_CLIENT, base_url=issuer)
        return relying_party.begin_login(
            session, client_id=oidc.LIFE_CLIENT, redirect_uri=issuer + CALLBACK, next_path=target
        )

    state, url = get_db().run(work)
    response = _redirect(request, url)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=600,
        httponly=True,
        samesite="lax",
        path=CALLBACK,
        secure=get_settings().security.cookie_secure,
    )
    return response


@router.get(CALLBACK)
def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    if error:
        status = 403 if error == "access_denied" else 400
        heading = "error.denied" if error == "access_denied" else "error.sign-in"
        response = _message(
            request, heading=heading, body=heading + ".body", action="error.retry", status=status
        )
        response.delete_cookie(STATE_COOKIE, path=CALLBACK)
        return response
    issuer = issuer_of(request)
    cookie_state = request.cookies.get(STATE_COOKIE)
    cookie, target = get_db().run(
        lambda s: relying_party.complete_login(
            s,
            client_id=oidc.LIFE_CLIENT,
            client_secret=_secret(),
            issuer=issuer,
            redirect_uri=issuer + CALLBACK,
            state=state,
            cookie_state=cookie_state,
            code=code,
        )
    )
    response = _redirect(request, _life_next(target))
    response.delete_cookie(STATE_COOKIE, path=CALLBACK)
    response.set_cookie(
        LIFE_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        path=HOME,
        secure=get_settings().security.cookie_secure,
    )
    return response


@router.post("/life/logout", dependencies=[Depends(csrf.verify)])
def logout(request: Request) -> Response:
    """End the Life session, then ask the provider to end the customer's sign-in (RP-initiated logout)."""
    cookie = request.cookies.get(LIFE_COOKIE)
    id_token = get_db().run(lambda s: relying_party.end(s, cookie))
    issuer = issuer_of(request)
    if id_token is None:
        response = _redirect(request, SIGNED_OUT)
    else:
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": oidc.LIFE_CLIENT,
                "post_logout_redirect_uri": issuer + SIGNED_OUT,
            }
        )
        response = _redirect(request, f"/oauth2/logout?{query}")
    response.delete_cookie(LIFE_COOKIE, path=HOME)
    return response


@router.get(SIGNED_OUT)
def signed_out(request: Request) -> Response:
    return _message(request, heading="signed_out.title", body="signed_out.body", action="signed_out.again")
