"""Who may call the decision API: a channel client presenting its key as a bearer token.

- No credential, an unknown key or a revoked one: 401 (problem+json, `WWW-Authenticate: Bearer`).
- A person's credential (a customer's or staff member's session, an OAuth access token): 403 — they are
  authenticated, but this API is for machine clients only.
- A client without the scope or channel the route needs: 403.
A known key costs one SHA-256 and a dict lookup (`channel_clients.key_cache`); the database is read only on
a cache miss, on a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import anyio
from fastapi import Depends, Request

from atrium.db.runtime import get_db
from atrium.identity import service as identity
from atrium.identity.oidc import service as oidc
from atrium.kit.errors import AtriumError, Forbidden, Unauthenticated
from atrium.risk import channel_clients
from atrium.risk.channel_clients import ChannelClient


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def _lookup(token: str) -> ChannelClient | None:
    with get_db().read_session() as session:
        return channel_clients.authenticate_cached(session, token)


def _is_a_person(token: str) -> bool:
    """Does `token` sign in a customer or a staff member (a session token or an OAuth access token)?"""
    with get_db().read_session() as session:
        if token.count(".") == 2:
            return oidc.authenticate_access_token(session, token) is not None
        try:
            identity.authenticate(session, token)
        except AtriumError:
            return False
        return True


_lookups: dict[tuple[int, str], asyncio.Future[ChannelClient | None]] = {}


async def client_for(token: str) -> ChannelClient | None:
    """The live client holding channel key `token`, or None. From the key cache; on a miss (or when the
    entry expired) one database read per key and event loop, which every concurrent request for that key
    awaits — an expiry under load is one read, not one per request in flight."""
    known, client = channel_clients.key_cache.get(token)
    if known:
        return client
    loop = asyncio.get_running_loop()
    slot = (id(loop), channel_clients.digest(token))
    pending = _lookups.get(slot)
    if pending is None:
        pending = _lookups[slot] = loop.create_future()
        try:
            pending.set_result(await anyio.to_thread.run_sync(_lookup, token))
        except BaseException as exc:
            pending.set_exception(exc)
            pending.exception()  # retrieved here: the awaiting requests re-raise it themselves
        finally:
            del _lookups[slot]
    return await asyncio.shield(pending)


async def authenticate(authorization: str | None) -> ChannelClient:
    token = bearer(authorization)
    if token is None:
        raise Unauthenticated("the decision API needs a channel key: Authorization: Bearer atrk_…")
    if channel_clients.looks_like_key(token):
        client = await client_for(token)
        if client is not None:
            return client
        raise Unauthenticated("the channel key is unknown or revoked")
    if len(token) <= 4096 and await anyio.to_thread.run_sync(_is_a_person, token):
        raise Forbidden("the decision API is for channel clients (card networks), not for people")
    raise Unauthenticated("the decision API needs a channel key: Authorization: Bearer atrk_…")


def require(client: ChannelClient, scope: str, channel: str | None = None) -> None:
    if scope not in client.scopes:
        raise Forbidden(f"this channel key does not grant {scope}")
    if channel is not None and channel not in client.channels:
        raise Forbidden(f"this channel client may not ask about the {channel} channel")


async def channel_client(request: Request) -> ChannelClient:
    """The calling channel client (the principal dependency of every /api/v1/risk route)."""
    return await authenticate(request.headers.get("authorization"))


async def _decider(client: Annotated[ChannelClient, Depends(channel_client)]) -> ChannelClient:
    require(client, "risk:decide")
    return client


async def _labeller(client: Annotated[ChannelClient, Depends(channel_client)]) -> ChannelClient:
    require(client, "risk:label")
    return client


CurrentChannel = Annotated[ChannelClient, Depends(channel_client)]
Decider = Annotated[ChannelClient, Depends(_decider)]
Labeller = Annotated[ChannelClient, Depends(_labeller)]
