"""Python's cyclic garbage collector in a long-running server: the start-up heap frozen, young collections
spaced out, pauses timed.

A server process holds a few hundred thousand objects that live as long as it does: modules, functions,
classes, pydantic and SQLAlchemy metadata. A full (generation 2) collection walks every one of them, and one
ran every second or so under `atrium bench risk` (objects kept alive across a request — connections, futures,
the decision log's queue — reach the old generation and trigger one when they grow it by a quarter). Each
took 200–290 ms on this machine: the card channel's 20 ms budget missed by a whole batch, and the fail policy
answered it.

`freeze_static_heap()` (called once the app has started) collects, then moves everything alive into the
permanent generation, which the collector never walks again. Full collections then walk only what the
process made since — the feature state, the caches — and their pauses shrink with it.

`tune()` raises the youngest generation's threshold, so a request's short-lived objects die before a
collection promotes them (at Python's 700, the objects of 64 requests waiting for their batch were promoted
and triggered the full collections above).

`WATCH` times each collection from `gc.callbacks` (numbers only: a callback that logged could re-enter
the logging lock of the thread the collection interrupted). The decision log's fail-policy warning gives the
collector's pause during its batch (`gc_ms`), and the server logs the totals when it stops.
"""

from __future__ import annotations

import gc
import time
from typing import Any


def tune(young_threshold: int) -> None:
    """Collect the youngest generation every `young_threshold` allocations (0: Python's default, 700),
    keeping the older generations' ratios. Young collections then come rarely enough that the objects of a
    request in flight die before one, instead of being promoted to the old generation, whose growth is
    what triggers a full collection."""
    if young_threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, older, oldest)


def freeze_static_heap() -> int:
    """Collect once, then move every surviving object into the permanent generation; how many were moved.

    Objects frozen here are never freed by the cyclic collector (reference counting still frees them): call
    it after start-up, when what is alive is what the process keeps."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class PauseWatch:
    """Counts and times the collector's runs per generation. `install()` / `uninstall()`."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.total_ms = [0.0, 0.0, 0.0]
        self.max_ms = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._started) * 1000
        gen = info["generation"]
        self.collections[gen] += 1
        self.total_ms[gen] += ms
        if ms > self.max_ms[gen]:
            self.max_ms[gen] = ms

    def paused_ms(self) -> float:
        """All collections' time so far (a mark: the pause in an interval is the difference of two)."""
        return self.total_ms[0] + self.total_ms[1] + self.total_ms[2]

    def summary(self) -> dict[str, Any]:
        return {"collections": list(self.collections), "total_ms": [round(t, 1) for t in self.total_ms],
                "max_ms": [round(t, 1) for t in self.max_ms], "frozen": gc.get_freeze_count()}

    def install(self) -> PauseWatch:
        if self not in gc.callbacks:
            gc.callbacks.append(self)
        return self

    def uninstall(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


WATCH = PauseWatch()
