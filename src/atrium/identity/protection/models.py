"""Tables of sign-in protection: the rate-limit log and the phantom lockout records of unknown usernames.

The customers' own lock state lives on `identity.models.Customer` (failed_logins, lock_state, …).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class RateBucket(Base):
    """One rate-limited key ("login:ip:203.0.113.9"). Its row is locked while a hit is decided, so
    concurrent hits on one key (from any process) are counted one after the other."""

    __tablename__ = "rate_limit_buckets"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    # When the newest hit leaves its window: after that the bucket holds nothing and may be deleted.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateHit(Base):
    """One allowed hit. Refused hits are not recorded (they do not push the window further out)."""

    __tablename__ = "rate_limit_hits"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)


class PhantomLock(Base):
    """The lockout state of a username that has no customer, keyed by the username's blind index (never the
    username itself). It runs the same state machine as a customer's, so locked answers cannot tell an
    unknown username from a real one. Idle records are deleted by the cleanup job."""

    __tablename__ = "login_phantom_locks"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    lock_state: Mapped[str] = mapped_column(String(16), default="none")
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    lock_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now(), index=True)
