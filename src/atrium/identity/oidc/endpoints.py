"""The provider's machine-facing endpoints: discovery, JWKS, token, revocation, userinfo.

They speak the protocol's own formats — RFC 6749 §5.2 error bodies (`{"error": …}`), not RFC 9457
problems — and are public in the route audit's sense: the client authenticates inside the request (its
secret, or PKCE for a public client; the bearer access token for userinfo). The browser-facing endpoints
(authorize, consent, logout) are pages, in `atrium.web.oauth2`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from atrium.db.runtime import get_db
from atrium.identity.oidc import service
from atrium.identity.oidc.errors import InvalidClient, InvalidRequest, OAuthError

router = APIRouter(tags=["oidc"])
T = TypeVar("T")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_FIELD = 4096


def issuer_of(request: Request) -> str:
    """This provider's issuer identifier: the origin the request reached (scheme, host, port)."""
    return str(request.base_url).rstrip("/")


def oauth_error(exc: OAuthError, *, basic: bool = False) -> JSONResponse:
    headers = dict(NO_STORE)
    if isinstance(exc, InvalidClient) and basic:
        headers["WWW-Authenticate"] = 'Basic realm="atrium"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.detail}, status_code=exc.status, headers=headers
    )


async def read_form(request: Request) -> dict[str, str]:
    """The form body; a parameter given twice, or absurdly long, is an invalid request (RFC 6749 §3.2)."""
    form = await request.form()
    out: dict[str, str] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str) or name in out or len(value) > MAX_FORM_FIELD:
            raise InvalidRequest(f"parameter {name[:40]!r} is repeated, too long or not text")
        out[name] = value
    return out


def commit_even_if_refused(work: Callable[[Any], T]) -> T:
    """Run `work` in a unit of work that commits what it wrote even when it ends in an OAuthError (a
    revoked token family, a burnt code must stay so), then re-raise the refusal."""

    def attempt(session: Any) -> tuple[T | None, OAuthError | None]:
        try:
            return work(session), None
        except OAuthError as exc:
            return None, exc

    result, error = get_db().run(attempt)
    if error is not None:
        raise error
    return result  # type: ignore[return-value]


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> JSONResponse:
    return JSONResponse(
        service.discovery(issuer_of(request)), headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/oauth2/jwks")
def jwks() -> JSONResponse:
    with get_db().read_session() as session:
        body = service.jwks(session)
    if not body["keys"]:  # the first request of a new deployment creates the first key
        get_db().run(service.ensure_key)
        with get_db().read_session() as session:
            body = service.jwks(session)
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


@router.post("/oauth2/token")
async def token(request: Request) -> Response:
    authorization = request.headers.get("authorization")
    issuer = issuer_of(request)
    try:
        form = await read_form(request)
        body = await run_in_threadpool(
            commit_even_if_refused,
            lambda s: service.token_request(s, form=form, authorization=authorization, issuer=issuer),
        )
    except OAuthError as exc:
        return oauth_error(exc, basic=bool(authorization))
    return JSONResponse(body, headers=NO_STORE)


@router.post("/oauth2/revoke")
async def revoke(request: Request) -> Response:
    authorization = request.headers.get("authorization")
    try:
        form = await read_form(request)
        if not form.get("token"):
            raise InvalidRequest("token is required")

        def work(session: Any) -> None:
            client = service.authenticate_client(session, authorization=authorization, form=form)
            service.revoke_token(session, client, form["token"], form.get("token_type_hint"))

        await run_in_threadpool(commit_even_if_refused, work)
    except OAuthError as exc:
        return oauth_error(exc, basic=bool(authorization))
    return Response(status_code=200, headers=NO_STORE)


def _bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else ""


def _userinfo(request: Request) -> Response:
    token = _bearer(request)
    try:
        with get_db().read_session() as session:
            body = service.userinfo(session, token)
    except OAuthError as exc:
        error = 'Bearer error="invalid_token"' if token else 'Bearer realm="atrium"'
        return JSONResponse(
            {"error": exc.error, "error_description": exc.detail},
            status_code=401,
            headers={**NO_STORE, "WWW-Authenticate": error},
        )
    return JSONResponse(body, headers=NO_STORE)


@router.get("/oauth2/userinfo")
def userinfo_get(request: Request) -> Response:
    return _userinfo(request)


@router.post("/oauth2/userinfo")
def userinfo_post(request: Request) -> Response:
    return _userinfo(request)
