"""One clock for the whole process, so tests and the demo seeder can move time without patching."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that only moves when told to (tests, the demo seeder's back-dated history)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at


_clock: Clock = Clock()


def now() -> datetime:
    return _clock.now()


def use(clock: Clock) -> Clock:
    """Install `clock` and return the previous one (restore it in a `finally`)."""
    global _clock
    previous, _clock = _clock, clock
    return previous
