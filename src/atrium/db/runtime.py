"""The process-wide Database, created lazily from settings (tests install their own)."""

from __future__ import annotations

from atrium.config import get_settings
from atrium.db.session import Database

_db: Database | None = None


def get_db() -> Database:
    global _db
    if _db is None:
        s = get_settings()
        _db = Database(s.database.url, echo=s.database.echo, pool_size=s.database.pool_size)
    return _db


def set_db(db: Database | None) -> None:
    global _db
    _db = db
