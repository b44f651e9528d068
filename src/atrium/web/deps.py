"""Annotated dependency aliases, so an endpoint's signature reads as its policy.

- `WriteSession`: a unit of work committed when the endpoint returns (before the response is sent), rolled
  back on error. `ReadOnlySession`: cannot write.
- `CurrentCustomer` / `CurrentStaff`: the authenticated principal (bearer token or session cookie).
- `IdempotencyKey`: the required `Idempotency-Key` header of every money write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.db.idempotency import check_key
from atrium.db.runtime import get_db
from atrium.db.session import ReadSession
from atrium.identity import service as identity
from atrium.identity import sessions
from atrium.identity.errors import InvalidCredentials, SessionExpired
from atrium.identity.login import Client
from atrium.identity.oidc import service as oidc
from atrium.identity.otp import service as otp
from atrium.identity.otp.errors import InvalidCode
from atrium.identity.principal import Principal
from atrium.identity.protection import ratelimit
from atrium.kit.errors import Forbidden, Unauthenticated
from atrium.web import access

SESSION_COOKIE = "atrium_session"
T = TypeVar("T")


def _write_session(request: Request) -> Iterator[Session]:
    with get_db().unit_of_work() as session:
        request.state.page_session = session
        try:
            yield session
        finally:
            request.state.page_session = None


def _read_session(request: Request) -> Iterator[ReadSession]:
    with get_db().read_session() as session:
        request.state.page_session = session
        try:
            yield session
        finally:
            request.state.page_session = None


def with_page_session(request: Request, work: Callable[[Session], T]) -> T:
    """Run a read for this request on the endpoint's own session while it is open, else on a short one.

    Code that runs inside a page (rendering asks for the tabs, the display mode) must not open a second
    pooled connection while the page holds one: under load every worker thread would hold one and wait
    for another, and the pool would run dry (`atrium bench api`'s home page did exactly that)."""
    session = getattr(request.state, "page_session", None)
    if session is not None:
        return work(session)
    with get_db().read_session() as own:
        return work(own)


WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
ReadOnlySession = Annotated[ReadSession, Depends(_read_session, scope="function")]


def bearer_or_cookie(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def _principal(request: Request) -> Principal:
    token = bearer_or_cookie(request)
    if not token:
        raise Unauthenticated("sign in first")
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if token.count(".") == 2 and request.headers.get("authorization"):
        # An OAuth access token (a JWT from /oauth2/token); session tokens are urlsafe base64, never dotted.
        with get_db().read_session() as session:
            from_token = oidc.authenticate_access_token(session, token)
        if from_token is None:
            raise SessionExpired("the access token is invalid, expired or revoked")
        request.state.principal = from_token
        return from_token
    with get_db().read_session() as session:
        principal = identity.authenticate(session, token)
        stale = principal.token_hash is not None and sessions.needs_touch(session, principal.token_hash)
    if stale and principal.token_hash:
        token_hash = principal.token_hash
        get_db().run(lambda s: sessions.touch(s, token_hash))
    request.state.principal = principal
    return principal


def throttle_sign_in(request: Request, username: str = "") -> None:
    """Count a sign-in attempt against its address and username (RateLimited 429 past the limits), in a
    transaction of its own: it must count even when the sign-in then fails and rolls back."""
    ip = request.client.host if request.client else "unknown"
    get_db().run(lambda s: ratelimit.check_login(s, ip=ip, username=username))


def throttle_address(request: Request, kind: str, *, limit: int, window_s: int = 300) -> None:
    """Count one `kind` of request against its network address (RateLimited 429 past `limit` in
    `window_s`), in a transaction of its own: it counts even when the request then fails and rolls back."""
    ip = request.client.host if request.client else "unknown"
    get_db().run(lambda s: ratelimit.hit(s, f"{kind}:ip:{ip}", limit=limit, window_s=window_s))


def throttle_codes(request: Request) -> None:
    """Count a request to text a code against its address (the per-phone limits are the OTP service's)."""
    ip = request.client.host if request.client else "unknown"
    get_db().run(lambda s: ratelimit.check_sms(s, ip=ip))


def read(work: Callable[[ReadSession], T]) -> T:
    """Run `work` on a read-only session of its own (e.g. a password check, kept out of any write lock)."""
    with get_db().read_session() as session:
        return work(session)


def attempt_credential(attempt: Callable[[], T], on_failure: Callable[[], None] | None = None) -> T:
    """Run a step that checks a credential. When it is refused, the step's transaction has rolled back,
    so what must stay is written in transactions of its own: the wrong try at an SMS code (a code dies
    after five) and, through `on_failure`, the failed sign-in (lockout, login history)."""
    try:
        return attempt()
    except InvalidCode as exc:
        code_id = exc.code_id
        if code_id:
            get_db().run(lambda s: otp.record_failure(s, code_id))
        if on_failure is not None:
            on_failure()
        raise
    except InvalidCredentials:
        if on_failure is not None:
            on_failure()
        raise


def client_info(request: Request, **device: str | None) -> Client:
    """Where a request comes from, for sign-in records and session lists. The address is the socket peer's
    (a deployment behind a proxy runs uvicorn with --proxy-headers and a trusted forwarder list, so this
    is then the forwarded client address)."""
    host = request.client.host if request.client else ""
    return Client(ip=host, user_agent=request.headers.get("user-agent", "")[:200], **device)  # type: ignore[arg-type]


def session_principal(request: Request) -> Principal | None:
    """Who the session cookie belongs to, or None when there is none or it has ended (a sign-in page
    treats a stale cookie as signed out rather than as an error)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with get_db().read_session() as session:
        try:
            return identity.authenticate(session, token)
        except Unauthenticated:
            return None


def set_session_cookie(response: Response, token: str) -> None:
    """The one way a sign-in (API or page) hands its session to a browser: HttpOnly, SameSite=Lax, Secure
    where configured, living as long as the session."""
    security = get_settings().security
    response.set_cookie(
        SESSION_COOKIE, token, max_age=security.session_ttl_s, httponly=True, samesite="lax",
        secure=security.cookie_secure, path="/",
    )


def end_cookie_session(request: Request, response: Response) -> None:
    """Sign out the browser's session (if any) and clear its cookie."""
    principal = session_principal(request)
    if principal is not None and principal.token_hash:
        token_hash = principal.token_hash
        get_db().run(lambda s: identity.logout(s, token_hash))
    response.delete_cookie(SESSION_COOKIE, path="/")


def _customer(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.kind != "customer":
        raise Forbidden("this is a customer route")
    if principal.scopes is not None and oidc.API_SCOPE not in principal.scopes:
        raise Forbidden("this access token does not grant API access")
    return principal


def _staff(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.kind != "staff":
        raise Forbidden("this is a staff route")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentCustomer = Annotated[Principal, Depends(_customer)]
CurrentStaff = Annotated[Principal, Depends(_staff)]


def _idempotency_key(idempotency_key: Annotated[str, Header(alias="Idempotency-Key")]) -> str:
    return check_key(idempotency_key)


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]

# A completed step-up challenge, sent back with the action it was made for (atrium.identity.stepup).
StepUpToken = Annotated[
    str | None,
    Header(alias="Atrium-Step-Up", max_length=4000,
           description="A completed step-up challenge (POST /auth/step-up), for the action it was made for"),
]

# The routes anyone may call, from the authorisation table (atrium.web.access); a test walks the app's
# routes and fails on any route that neither depends on a principal nor is public there.
PUBLIC_ROUTES: set[tuple[str, str]] = access.public_routes()
