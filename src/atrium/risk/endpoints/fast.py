"""The decision route's fast path: POST /api/v1/risk/decisions served before the app's router.

Measured (`atrium bench risk`, a profile of the app in-process): matching a request against the app's
route table and FastAPI's dependency machinery costs 130–320 µs of CPU per request (the decision route sits
behind ~200 others), as much as deciding. This ASGI middleware answers the route's ordinary case itself,
with the very functions the FastAPI route calls (`routes.decide`, `wire.render_decision`), and hands
everything else to the app unchanged — the request's body replayed — so refusals keep one implementation
(the route's) and one format (RFC 9457 problems):

- served here: a JSON body that validates, from a live channel key that may decide on that channel (the
  key is checked as the route checks it: `auth.client_for`); the answer is the route's (201 decided, 200
  replayed);
- handed on: no key or an unknown or revoked one, a person's credential, a body that does not validate or
  is larger than `risk_api.max_body_bytes`, and any error while deciding — nothing was committed then (an
  answered decision is committed first), so the route deciding again is safe, and a retry of a committed
  one replays it.

`install(app)` puts it innermost among the app's middleware (inside the security headers), so its answers
carry the same headers, server-error guard and access log as every route's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atrium.config import get_settings
from atrium.kit.errors import AtriumError
from atrium.logs import get_logger
from atrium.risk import channel_clients
from atrium.risk.endpoints.auth import bearer, client_for
from atrium.risk.endpoints.routes import DECISIONS_PATH, decide
from atrium.risk.endpoints.wire import DecisionRequest, negotiate, render_decision

log = get_logger("atrium.risk.endpoints")
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read_body(receive: Receive, limit: int) -> tuple[list[bytes], bool]:
    """The body's chunks, and whether that is all of it (False: it grew past `limit`, or the client left)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return chunks, False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return chunks, True
        if size > limit:
            return chunks, False


def _replay(chunks: list[bytes], whole: bool, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A `receive` that gives the app the body read so far, then the rest of the conversation."""
    pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": not whole}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def _serve(scope: Scope, body: bytes) -> Answer | None:
    token = bearer(_header(scope, b"authorization"))
    if token is None or not channel_clients.looks_like_key(token):
        return None
    content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None
    client = await client_for(token)
    if client is None:
        return None
    try:
        request = DecisionRequest.model_validate_json(body)
    except ValidationError:
        return None
    if "risk:decide" not in client.scopes or request.channel not in client.channels:
        return None
    try:
        read = await decide(client, request)
    except Exception as exc:  # the route decides again and answers (or refuses) in the usual way
        if not isinstance(exc, AtriumError):  # a refusal (a changed retry) is the client's, not ours
            log.warning("risk_fast_path_handed_on", error=type(exc).__name__)
        return None
    return render_decision(read, client, negotiate(_header(scope, b"accept-language")))


class DecisionFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != DECISIONS_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks, whole = await _read_body(receive, get_settings().risk_api.max_body_bytes)
        answer = await _serve(scope, b"".join(chunks)) if whole else None
        if answer is None:
            await self.app(scope, _replay(chunks, whole, receive), send)
            return
        status, payload, headers = answer
        headers = [*headers, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def install(app: FastAPI) -> None:
    """Add the fast path (once) as the innermost user middleware — inside the security headers and any
    other middleware, whenever those were added — so its answers get the same headers as the route's."""
    if app.middleware_stack is not None:
        raise RuntimeError("install the decision fast path before the app starts")
    if not any(m.cls is DecisionFastPath for m in app.user_middleware):
        app.user_middleware.append(Middleware(DecisionFastPath))
