"""A decision-API channel key is 256 random bits shown once; the database keeps only its SHA-256 digest and
a four-character hint, so a copy of the table cannot call the API."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from atrium.risk import channel_clients
from atrium.risk.channel_models import RiskChannelClient


def test_a_channel_key_is_stored_only_as_its_digest(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        client, key = channel_clients.issue(s, name="network A", channels=["card"], created_by="test")
    assert len(key.removeprefix(channel_clients.KEY_PREFIX)) >= 43  # 32 random bytes, base64url
    with db.read_session() as s:
        row = s.scalar(select(RiskChannelClient).where(RiskChannelClient.id == client.id))
        assert row is not None
        stored = [str(getattr(row, c.key)) for c in RiskChannelClient.__table__.columns]
        assert not any(key in value for value in stored)
        assert row.key_hash == "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        assert row.key_hint == key[-4:]
        assert channel_clients.authenticate(s, key) == client
        assert channel_clients.authenticate(s, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
