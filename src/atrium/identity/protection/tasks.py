"""Scheduled job of sign-in protection: `protection.cleanup` every 5 minutes deletes rate-limit hits that
have left their window, empty buckets, and phantom lockout records idle for `phantom_idle_days`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.identity.protection import ratelimit
from atrium.identity.protection.models import PhantomLock
from atrium.kit import clock
from atrium.logs import get_logger
from atrium.runtime import job

log = get_logger("atrium.identity.protection.tasks")
CLEANUP_INTERVAL_S = 300


def forget_idle_phantoms(session: Session) -> int:
    now = clock.now()
    idle = now - timedelta(days=get_settings().protection.phantom_idle_days)
    result = session.execute(
        delete(PhantomLock).where(PhantomLock.updated_at < idle)
        .where((PhantomLock.locked_until.is_(None)) | (PhantomLock.locked_until < now))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def cleanup(db: Database, *, batch: int = 5000, max_batches: int = 20) -> tuple[int, int]:
    hits = 0
    for _ in range(max_batches):  # bounded batches: short transactions, and a backlog still drains
        deleted = db.run(lambda s: ratelimit.cleanup(s, batch=batch))
        hits += deleted
        if deleted < batch:
            break
    phantoms = db.run(forget_idle_phantoms)
    if hits or phantoms:
        log.info("protection_cleanup", hits=hits, phantoms=phantoms)
    return hits, phantoms


@job("protection.cleanup", interval_s=CLEANUP_INTERVAL_S)
def _cleanup_job(db: Database) -> object:
    return cleanup(db)
