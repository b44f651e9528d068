"""The provider's browser-facing endpoints: authorization (with the consent page) and RP-initiated logout.

They run in the customer's browser on the mobile app's session cookie (`atrium_session`), CSRF tokens and
templates. The authorization request is checked first (`oidc.service.check_request`): an unknown client or
an unregistered redirect URI is shown as an error page and never redirected to; any other error goes back
to the client's redirect URI with `error=` and the client's `state` (RFC 6749 §4.1.2.1). Without a session
the browser goes to /login and comes back to the very same authorization URL.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from atrium.db.runtime import get_db
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.endpoints import issuer_of
from atrium.identity.oidc.errors import AccessDenied, BadRedirect, ConsentRequired, LoginRequired, OAuthError
from atrium.identity.oidc.schemas import AuthorizationRequest
from atrium.identity.principal import Principal
from atrium.web.deps import SESSION_COOKIE, CurrentCustomer, session_principal
from atrium.web.mobile import csrf
from atrium.web.mobile.routing import PageRoute
from atrium.web.mobile.templating import CONTENT_SECURITY_POLICY, finish, render, translator

router = APIRouter(route_class=PageRoute, include_in_schema=False)
AUTHORIZE = "/oauth2/authorize"
CONSENT = "/oauth2/consent"
LOGOUT = "/oauth2/logout"


def _with_query(uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _to_client(request: Request, uri: str) -> Response:
    return finish(request, RedirectResponse(uri, status_code=303))


def _error_page(request: Request, status: int, code: str) -> Response:
    return render(
        request,
        "pages/oidc/error.html",
        status_code=status,
        title=translator(request)("oidc.error.title"),
        code=code,
    )


def _refuse(request: Request, req: AuthorizationRequest, exc: OAuthError) -> Response:
    return _to_client(
        request,
        _with_query(
            req.redirect_uri,
            {
                "error": exc.error,
                "error_description": exc.detail,
                "state": req.state,
                "iss": issuer_of(request),
            },
        ),
    )


def _params(request: Request) -> dict[str, str] | None:
    """The query's parameters; None when one is repeated (RFC 6749 §3.1: parameters appear once)."""
    out: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in out:
            return None
        out[name] = value
    return out


def _check(request: Request, params: dict[str, str]) -> AuthorizationRequest | Response:
    """A checked request, or the response that refuses it (an error page, or an error redirect)."""
    try:
        with get_db().read_session() as session:
            return oidc.check_request(session, params)
    except BadRedirect:
        return _error_page(request, 400, "bad-client")
    except OAuthError as exc:
        # check_request vouched for the client and its redirect URI before raising this
        return _to_client(
            request,
            _with_query(
                params.get("redirect_uri", ""),
                {
                    "error": exc.error,
                    "error_description": exc.detail,
                    "state": params.get("state"),
                    "iss": issuer_of(request),
                },
            ),
        )


def _consent_page(request: Request, req: AuthorizationRequest) -> Response:
    response = render(
        request,
        "pages/oidc/consent.html",
        title=translator(request)("oidc.consent.title"),
        client=req.client,
        scopes=list(req.scope),
        fields=req.as_form(),
        action=CONSENT,
    )
    # The form posts here, and the answer redirects to the client: `form-action` must allow its origin.
    target = urlsplit(req.redirect_uri)
    origin = f"{target.scheme}://{target.netloc}" if target.netloc else f"{target.scheme}:"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


def _code_or_consent(
    request: Request, req: AuthorizationRequest, principal: Principal, *, consented: bool
) -> Response:
    facts = oidc.facts_of(principal)

    def work(session) -> str | None:  # type: ignore[no-untyped-def]
        if consented:
            oidc.record_consent(session, req, principal.id)
        elif oidc.needs_consent(session, req, principal.id):
            if "none" in req.prompt:
                raise ConsentRequired("the customer has not allowed this application yet")
            return None
        return oidc.issue_code(session, req, facts)

    try:
        code = get_db().run(work)
    except OAuthError as exc:
        return _refuse(request, req, exc)
    if code is None:
        return _consent_page(request, req)
    return _to_client(
        request, _with_query(req.redirect_uri, {"code": code, "state": req.state, "iss": issuer_of(request)})
    )


@router.get(AUTHORIZE)
def authorize(request: Request) -> Response:
    params = _params(request)
    if params is None:
        return _error_page(request, 400, "bad-client")
    checked = _check(request, params)
    if not isinstance(checked, AuthorizationRequest):
        return checked
    principal = session_principal(request)
    if principal is None or principal.kind != "customer" or not principal.sid:
        if "none" in checked.prompt:
            return _refuse(request, checked, LoginRequired("the customer is not signed in"))
        target = f"{AUTHORIZE}?{request.url.query}"
        return finish(request, RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303))
    return _code_or_consent(request, checked, principal, consented=False)


@router.post(CONSENT, dependencies=[Depends(csrf.verify)])
async def consent(request: Request, customer: CurrentCustomer) -> Response:
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str) and k not in (csrf.CSRF_FIELD, "decision")}
    checked = _check(request, params)
    if not isinstance(checked, AuthorizationRequest):
        return checked
    principal = session_principal(request)
    if principal is None or principal.id != customer.id:
        return _error_page(request, 403, "not-your-session")
    if form.get("decision") != "allow":
        return _refuse(request, checked, AccessDenied("the customer declined"))
    return _code_or_consent(request, checked, principal, consented=True)


# --- RP-initiated logout ---------------------------------------------------------------------------


def _after_logout(request: Request, req: oidc.LogoutRequest) -> Response:
    if req.redirect_uri is not None:
        response = _to_client(request, _with_query(req.redirect_uri, {"state": req.state}))
    else:
        response = render(
            request,
            "pages/oidc/signed_out.html",
            title=translator(request)("oidc.logout.done"),
            client=req.client,
        )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _logout_params(request: Request, form: dict[str, str] | None = None) -> dict[str, str]:
    names = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")
    source = form if form is not None else dict(request.query_params)
    return {n: source[n] for n in names if isinstance(source.get(n), str) and len(source[n]) <= 4096}


def _logout(request: Request, params: dict[str, str], *, confirmed: bool) -> Response:
    with get_db().read_session() as session:
        req = oidc.check_logout(session, params)
    cookie = session_principal(request)
    if req.sid is not None and req.customer_id is not None:
        customer_id, sid = req.customer_id, req.sid  # the hint names the session: end it, no questions
        get_db().run(lambda s: oidc.end_session(s, customer_id=customer_id, sid=sid))
        if cookie is not None and cookie.sid != sid:
            return _after_logout_keep_cookie(request, req)
        return _after_logout(request, req)
    if cookie is None or cookie.kind != "customer" or not cookie.sid:
        return _after_logout(request, req)
    if not confirmed:  # no proof which session the client means: ask the customer
        return render(
            request,
            "pages/oidc/logout.html",
            title=translator(request)("oidc.logout.title"),
            client=req.client,
            fields=params,
            action=LOGOUT,
        )
    customer_id, sid = cookie.id, cookie.sid
    get_db().run(lambda s: oidc.end_session(s, customer_id=customer_id, sid=sid))
    return _after_logout(request, req)


def _after_logout_keep_cookie(request: Request, req: oidc.LogoutRequest) -> Response:
    """The hint named another session of the customer than this browser's: that one ended, this stays."""
    if req.redirect_uri is not None:
        return _to_client(request, _with_query(req.redirect_uri, {"state": req.state}))
    return render(
        request,
        "pages/oidc/signed_out.html",
        title=translator(request)("oidc.logout.done"),
        client=req.client,
    )


@router.get(LOGOUT)
def logout_get(request: Request) -> Response:
    return _logout(request, _logout_params(request), confirmed=False)


@router.post(LOGOUT)
async def logout_post(request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    params = _logout_params(request, form)
    confirmed = form.get("confirm") == "yes"
    if confirmed:
        await csrf.verify(request)  # the confirmation button is ours; a hint alone needs no token
    return _logout(request, params, confirmed=confirmed)


__all__ = ["AUTHORIZE", "CONSENT", "LOGOUT", "router"]
