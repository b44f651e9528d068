"""The interbank clearing rail: the `ClearingRail` seam and its simulated implementation.

`get_rail(db)` gives the process's rail (the simulated one, configured by `settings.rail`); tests and the
demo install their own with `use_rail`.
"""

from __future__ import annotations

import threading

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.payments.rail.interface import (
    ClearingRail,
    Instruction,
    Notification,
    Participant,
    RailError,
    RailRejected,
    RailTimeout,
    Receipt,
)

__all__ = [
    "ClearingRail", "Instruction", "Notification", "Participant", "RailError", "RailRejected",
    "RailTimeout", "Receipt", "get_rail", "use_rail",
]

_lock = threading.Lock()
_current: tuple[Database, ClearingRail] | None = None


def get_rail(db: Database) -> ClearingRail:
    """One rail per process (its seeded random sequence must not restart on every job tick)."""
    global _current
    with _lock:
        if _current is None or _current[0] is not db:
            from atrium.payments.rail.simulated import SimulatedRail

            _current = (db, SimulatedRail(db, get_settings().rail))
        return _current[1]


def use_rail(db: Database, rail: ClearingRail | None) -> None:
    """Install `rail` for `db` (None: go back to the configured simulated rail on next use)."""
    global _current
    with _lock:
        _current = (db, rail) if rail is not None else None
