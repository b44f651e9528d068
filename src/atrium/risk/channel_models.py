"""The decision API's machine clients: card networks and other external channels.

Invariants:
- A client proves itself with a key of 256 random bits; only the key's SHA-256 is stored (`key_hash`). A key
  that random needs no slow hash: nobody can guess it, so a fast digest cannot be brute-forced, and the hot
  path checks it in microseconds (argon2 would cost ~100 ms per decision).
- A client is never deleted: revoking sets `revoked_at` (and who did it), so the decisions it asked for keep
  a known owner.
- `channels` are the decision channels the client may ask about (e.g. "card"); `scopes` what it may do
  ("risk:decide" — ask for and read back its own decisions; "risk:label" — report chargebacks and fraud).
- A client's transaction ids are its own namespace: the decision log's subject is `<client id>:<transaction
  id>`, so two networks that both send "12345" never share (or read) a decision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class RiskChannelClient(Base):
    __tablename__ = "risk_channel_clients"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # rch_…
    name: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(80), unique=True)  # "sha256:<hex>"
    key_hint: Mapped[str] = mapped_column(String(16))  # the key's last 4 characters, for people
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(40))  # staff id, or "cli:<user>"
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(40), default=None)
