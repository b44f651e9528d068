"""Rate limits as a sliding-window log in the database, shared by every process of the bank.

`hit(session, key, limit=, window_s=)` allows the hit only while fewer than `limit` hits were allowed for
`key` in the last `window_s` seconds — the window (now − window_s, now] — and records it; otherwise it
raises `RateLimited` with `retry_after`: the seconds until the oldest hit that matters leaves the window.
So no interval of `window_s` seconds ever holds more than `limit` allowed hits, wherever it starts.

Concurrency: the key's bucket row is upserted first. On PostgreSQL the upsert's row lock is held until the
caller's transaction ends, so concurrent hits on one key from any process are decided one after the other;
on SQLite every write transaction is already the only writer. Call `hit` in a short transaction of its
own, before the work it guards (a refused sign-in rolls its own transaction back — the hit must survive
that, and the row lock should not be held while a password is hashed):
`get_db().run(lambda s: ratelimit.check_login(s, ip=ip, username=username))`.

Keys: "login:ip:<ip>", "login:user:<username blind index>", "sms:ip:<ip>"; usernames never appear in
clear. Expired hits and buckets are deleted by the `protection.cleanup` job (`cleanup`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.identity import pii
from atrium.identity.protection.errors import RateLimited
from atrium.identity.protection.models import RateBucket, RateHit
from atrium.kit import clock
from atrium.kit.ids import new_id

KEY_MAX = 200
USERNAME_CONTEXT = "login.username"


def login_ip_key(ip: str) -> str:
    return f"login:ip:{ip or 'unknown'}"


def login_user_key(username: str) -> str:
    """Keyed by the username's blind index (HMAC): the table never holds usernames in clear."""
    return f"login:user:{username_digest(username)}"


def sms_ip_key(ip: str) -> str:
    return f"sms:ip:{ip or 'unknown'}"


def username_digest(username: str) -> str:
    return pii.blind_index(username.strip().casefold(), context=USERNAME_CONTEXT)


def _check(key: str, window_s: int) -> None:
    if not key or len(key) > KEY_MAX:
        raise ValueError(f"a rate-limit key is 1 to {KEY_MAX} characters")
    if window_s < 1:
        raise ValueError("a rate-limit window is at least one second")


def _lock_bucket(session: Session, key: str, now: datetime, expires_at: datetime) -> None:
    """Create the key's bucket or touch it; either way its row is now locked by this transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(RateBucket).values(bucket=key, touched_at=now, expires_at=expires_at)
    stmt = stmt.on_conflict_do_update(index_elements=[RateBucket.bucket], set_={"touched_at": now})
    session.execute(stmt)


def _in_window(key: str, since: datetime):  # type: ignore[no-untyped-def]
    return (RateHit.bucket == key, RateHit.at > since)


def _record(session: Session, key: str, now: datetime, window_s: int) -> None:
    expires_at = now + timedelta(seconds=window_s)
    session.execute(
        RateHit.__table__.insert().values(id=new_id("rlh"), bucket=key, at=now, expires_at=expires_at)
    )
    session.execute(
        update(RateBucket)
        .where(RateBucket.bucket == key, RateBucket.expires_at < expires_at)
        .values(expires_at=expires_at)
    )


def hit(session: Session, key: str, *, limit: int, window_s: int) -> None:
    """Allow and record one hit on `key`, or raise RateLimited (429) with `retry_after` seconds."""
    _check(key, window_s)
    if limit < 1:
        raise ValueError("a rate limit allows at least one hit")
    now = clock.now()
    window = timedelta(seconds=window_s)
    _lock_bucket(session, key, now, now + window)
    since = now - window
    used = session.scalar(select(func.count()).select_from(RateHit).where(*_in_window(key, since))) or 0
    if used >= limit:
        # After the (used - limit + 1) oldest hits have left the window, one more hit fits.
        oldest = session.scalar(
            select(RateHit.at).where(*_in_window(key, since))
            .order_by(RateHit.at).offset(used - limit).limit(1)
        )
        wait = (oldest + window - now).total_seconds() if oldest is not None else window_s
        raise RateLimited(
            f"at most {limit} attempts in {window_s} seconds; try again later",
            retry_after=max(1, math.ceil(wait)),
        )
    _record(session, key, now, window_s)


def record(session: Session, key: str, *, window_s: int) -> int:
    """Record an event on `key` unconditionally; returns how many events the last `window_s` seconds hold,
    this one included (the lockout counts its recent locks this way)."""
    _check(key, window_s)
    now = clock.now()
    _lock_bucket(session, key, now, now + timedelta(seconds=window_s))
    _record(session, key, now, window_s)
    return count(session, key, window_s=window_s)


def count(session: Session, key: str, *, window_s: int) -> int:
    """Events recorded on `key` in the last `window_s` seconds."""
    _check(key, window_s)
    since = clock.now() - timedelta(seconds=window_s)
    return session.scalar(select(func.count()).select_from(RateHit).where(*_in_window(key, since))) or 0


def clear(session: Session, key: str) -> None:
    """Forget every hit on `key` (a staff unlock clears the customer's recent locks)."""
    session.execute(delete(RateHit).where(RateHit.bucket == key))
    session.execute(delete(RateBucket).where(RateBucket.bucket == key))


def cleanup(session: Session, *, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete hits that have left their window and buckets with nothing left in theirs. Returns the number
    of hits deleted. Bounded per call (`batch`), so one run never holds long locks; the job runs often."""
    at = now or clock.now()
    expired = select(RateHit.id).where(RateHit.expires_at <= at).limit(batch)
    ids = list(session.scalars(expired))
    if ids:
        session.execute(delete(RateHit).where(RateHit.id.in_(ids)))
    stale = list(session.scalars(select(RateBucket.bucket).where(RateBucket.expires_at <= at).limit(batch)))
    if stale:
        # A hit recorded meanwhile pushed its bucket's expiry out, so the condition is checked again.
        session.execute(delete(RateBucket).where(RateBucket.bucket.in_(stale), RateBucket.expires_at <= at))
    session.flush()
    return len(ids)


# --- the bank's limits (settings.protection) -------------------------------------------------------------


def check_login(session: Session, *, ip: str, username: str) -> None:
    """Every password or code sign-in attempt: per address and per username (spraying one password over
    many usernames hits the first; many addresses against one username hit the second)."""
    p = get_settings().protection
    hit(session, login_ip_key(ip), limit=p.login_ip_limit, window_s=p.login_ip_window_s)
    if username.strip():
        hit(session, login_user_key(username), limit=p.login_user_limit, window_s=p.login_user_window_s)


def check_sms(session: Session, *, ip: str) -> None:
    """Every request to send a code by SMS, per address (the per-phone limits are the OTP service's)."""
    p = get_settings().protection
    hit(session, sms_ip_key(ip), limit=p.sms_ip_limit, window_s=p.sms_ip_window_s)
