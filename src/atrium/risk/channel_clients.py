"""Channel clients of the decision API: issue, revoke, list, and authenticate a presented key.

A key is `atrk_` + 43 characters of base64url (256 random bits), shown once when issued; the table keeps
its SHA-256 (see channel_models). `authenticate` reads the table; `KeyCache` remembers answers for
`risk_api.key_cache_s` so the hot path costs one SHA-256 and a dict lookup — a revoked key therefore stops
working in this process at once and in other processes within that many seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.kit import clock
from atrium.kit.errors import NotFound, ValidationFailed
from atrium.kit.ids import new_id
from atrium.risk.channel_models import RiskChannelClient

KEY_PREFIX = "atrk_"
SCOPES = ("risk:decide", "risk:label")
CHANNELS = ("card", "api", "transfer", "qr", "login", "device", "payee")
_KEY_BYTES = 32
_MAX_KEY_LENGTH = 100  # anything longer is not one of ours: refused before hashing


@dataclass(frozen=True, slots=True)
class ChannelClient:
    """Who is calling the decision API."""

    id: str
    name: str
    channels: frozenset[str]
    scopes: frozenset[str]

    def namespace(self, transaction_id: str) -> str:
        """The decision log's subject for one of this client's transaction ids."""
        return f"{self.id}:{transaction_id}"

    def owns(self, subject_ref: str) -> bool:
        return subject_ref.startswith(f"{self.id}:")

    def transaction_id(self, subject_ref: str) -> str:
        return subject_ref.removeprefix(f"{self.id}:")


class ChannelClientNotFound(NotFound):
    code = "risk-channel-client-not-found"
    title = "No such channel client"


def digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) <= _MAX_KEY_LENGTH


def _client(row: RiskChannelClient) -> ChannelClient:
    return ChannelClient(row.id, row.name, frozenset(row.channels), frozenset(row.scopes))


def issue(session: Session, *, name: str, channels: Iterable[str], scopes: Iterable[str] = SCOPES,
          created_by: str) -> tuple[ChannelClient, str]:
    """Register a client; returns it and its key (shown once: only the key's digest is stored)."""
    channel_set, scope_set = sorted(set(channels)), sorted(set(scopes))
    if not name.strip() or len(name) > 80:
        raise ValidationFailed("a channel client needs a name of at most 80 characters")
    if not channel_set or any(c not in CHANNELS for c in channel_set):
        raise ValidationFailed(f"channels must be some of {', '.join(CHANNELS)}")
    if not scope_set or any(s not in SCOPES for s in scope_set):
        raise ValidationFailed(f"scopes must be some of {', '.join(SCOPES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    row = RiskChannelClient(id=new_id("rch"), name=name.strip(), key_hash=digest(key), key_hint=key[-4:],
                            channels=channel_set, scopes=scope_set, created_by=created_by)
    session.add(row)
    session.flush()
    return _client(row), key


def revoke(session: Session, client_id: str, *, revoked_by: str) -> None:
    row = session.get(RiskChannelClient, client_id)
    if row is None:
        raise ChannelClientNotFound(f"no channel client {client_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = clock.now(), revoked_by
        session.flush()
    key_cache.forget_client(client_id)


def list_clients(session: Session) -> list[RiskChannelClient]:
    return list(session.scalars(select(RiskChannelClient).order_by(RiskChannelClient.created_at)))


def authenticate(session: Session, key: str) -> ChannelClient | None:
    """The live client holding `key`, or None (unknown, malformed or revoked)."""
    if not looks_like_key(key):
        return None
    row = session.scalar(select(RiskChannelClient).where(RiskChannelClient.key_hash == digest(key)))
    if row is None or row.revoked_at is not None:
        return None
    return _client(row)


class KeyCache:
    """digest → (client or None, expiry). Bounded: past `max_entries` it starts again from empty (a burst of
    made-up keys cannot grow it, and live clients are re-read once)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: dict[str, tuple[ChannelClient | None, float]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: str) -> tuple[bool, ChannelClient | None]:
        """(known, client): known=False means "ask the database" (never seen, or expired)."""
        hit = self._entries.get(digest(key))
        if hit is None or hit[1] < time.monotonic():
            return False, None
        return True, hit[0]

    def put(self, key: str, client: ChannelClient | None) -> None:
        ttl = get_settings().risk_api.key_cache_s
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest(key)] = (client, time.monotonic() + ttl)

    def forget_client(self, client_id: str) -> None:
        with self._lock:
            self._entries = {d: v for d, v in self._entries.items() if v[0] is None or v[0].id != client_id}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


key_cache = KeyCache()


def authenticate_cached(session: Session, key: str) -> ChannelClient | None:
    known, client = key_cache.get(key)
    if known:
        return client
    client = authenticate(session, key)
    key_cache.put(key, client)
    return client
