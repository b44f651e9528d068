"""The lockout state machine: pure rules, no database. A customer row and a phantom record (an unknown
username) are both just storage for a `LockState`, so the two answer identically."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

LockKind = Literal["none", "temporary", "permanent"]


@dataclass(frozen=True)
class LockPolicy:
    max_failures: int = 5
    lock_minutes: int = 15
    permanent_after: int = 3  # the n-th temporary lock within `permanent_window_h` is permanent
    permanent_window_h: int = 24

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.lock_minutes < 1 or self.permanent_after < 1:
            raise ValueError("lockout settings must be positive")
        if self.permanent_window_h < 1:
            raise ValueError("the permanent-lock window must be at least an hour")

    @property
    def lock_duration(self) -> timedelta:
        return timedelta(minutes=self.lock_minutes)

    @property
    def permanent_window_s(self) -> int:
        return self.permanent_window_h * 3600


@dataclass(frozen=True)
class LockState:
    failed: int = 0
    state: LockKind = "none"
    locked_until: datetime | None = None
    locked_at: datetime | None = None
    lock_count: int = 0


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused: a temporary lock (until when) or a permanent one (until staff unlock)."""

    state: LockKind
    locked_until: datetime | None

    def retry_after_s(self, now: datetime) -> int | None:
        if self.locked_until is None:
            return None
        seconds = (self.locked_until - now).total_seconds()
        return max(1, int(seconds) + (0 if seconds == int(seconds) else 1))


def refusal(lock: LockState, now: datetime) -> Refusal | None:
    """None when a sign-in may be attempted now."""
    if lock.state == "permanent":
        return Refusal("permanent", None)
    if lock.state == "temporary" and lock.locked_until is not None and lock.locked_until > now:
        return Refusal("temporary", lock.locked_until)
    return None


def settled(lock: LockState, now: datetime) -> LockState:
    """A temporary lock that has run out is no lock, and its failures are spent: the customer starts again
    with `max_failures` attempts (the count of recent locks is kept: it decides the permanent lock)."""
    if lock.state == "temporary" and refusal(lock, now) is None:
        return replace(lock, failed=0, state="none", locked_until=None)
    return lock


def needs_lock(lock: LockState, now: datetime, policy: LockPolicy) -> bool:
    """Whether one more failure (on top of `lock`) locks the account."""
    current = settled(lock, now)
    return refusal(current, now) is None and current.failed + 1 >= policy.max_failures


def after_failure(lock: LockState, now: datetime, policy: LockPolicy, *, recent_locks: int = 0) -> LockState:
    """The state after one more wrong password. `recent_locks` counts the temporary locks in the last
    `permanent_window_h` hours *including the one this failure would start* (the caller records it first,
    when `needs_lock` says so). A failure while locked changes nothing (it was refused before checking)."""
    current = settled(lock, now)
    if refusal(current, now) is not None:
        return current
    failed = current.failed + 1
    if failed < policy.max_failures:
        return replace(current, failed=failed)
    if recent_locks >= policy.permanent_after:
        return LockState(failed=failed, state="permanent", locked_until=None, locked_at=now,
                         lock_count=recent_locks)
    return LockState(failed=failed, state="temporary", locked_until=now + policy.lock_duration, locked_at=now,
                     lock_count=recent_locks)


def after_success(lock: LockState) -> LockState:
    """A sign-in succeeded (only possible when not locked): the failure count starts again."""
    return replace(lock, failed=0, state="none", locked_until=None)


def unlocked() -> LockState:
    """A staff unlock: everything cleared, including the count of recent locks."""
    return LockState()
