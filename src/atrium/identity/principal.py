"""Who is calling: resolved from a session token (or an OIDC access token bound to a session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Principal:
    kind: str  # customer | staff
    id: str
    role: str | None = None
    token_hash: str | None = None
    sid: str | None = None
    loa: int = 1
    amr: tuple[str, ...] = ()
    device_id: str | None = None
    identity_id: str | None = None
    auth_time: datetime | None = None
    scopes: frozenset[str] | None = None  # None: a first-party session (every scope); a set: an OAuth token
    client_id: str | None = None
