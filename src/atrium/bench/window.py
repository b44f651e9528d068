"""The measured window of a closed-loop load phase, shared by `bench api`, `bench auth` and `bench risk`.

A phase warms up, then measures for `seconds`: a request counts when it finishes inside the window. On a
loaded machine (a benchmark beside a test run, a CI box) a phase of a second or so could close before any
request finished, and report a rate of zero for a server that works. So the window stays open past its
`seconds` until at least one request has finished in it (at most `grace` seconds more), and every rate is
taken over the time the window was really open (`elapsed`), never over the time asked for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

GRACE_S = 30.0  # how long past its time a window waits for a first finished request


def still_open(now: float, start: float, seconds: float, finished: int, grace: float = GRACE_S) -> bool:
    """The rule every closed-loop harness here uses: open for `seconds` from `start`, then on until the
    first request has finished inside, for at most `grace` more seconds."""
    end = start + seconds
    return now < end or (finished == 0 and now < end + grace)


class _Ticks(Protocol):
    def tick(self, fraction: float) -> None: ...


class Window:
    """Open from `warmup` seconds after it is made until `seconds` later (or the first finished request).

    Workers loop `while not window.closed`, and call `window.measures(done)` when a request finishes: it
    says whether that request counts. `clock()` runs beside them, ticks the reporter, closes the window and
    reads the CPU time the server and this process used while it was open."""

    def __init__(self, warmup: float, seconds: float, *, grace: float = GRACE_S) -> None:
        self._loop = asyncio.get_running_loop()
        self.start = self._loop.time() + warmup
        self.seconds = seconds
        self.grace = grace
        self.finished = 0
        self.closed = False
        self.elapsed = 0.0
        self.server_cpu_s = 0.0
        self.generator_cpu_s = 0.0

    def measures(self, done: float) -> bool:
        """True when a request that finished at loop time `done` falls in the window."""
        inside = self.start <= done and not self.closed
        self.finished += inside
        return inside

    async def clock(self, server_cpu: Callable[[], float], reporter: _Ticks) -> None:
        await asyncio.sleep(max(0.0, self.start - self._loop.time()))
        server0, gen0 = server_cpu(), time.process_time()
        while still_open(now := self._loop.time(), self.start, self.seconds, self.finished, self.grace):
            reporter.tick(min(1.0, (now - self.start) / self.seconds))
            left = self.start + self.seconds - now
            await asyncio.sleep(min(0.2, left) if left > 0 else 0.02)
        self.closed = True
        self.elapsed = self._loop.time() - self.start
        self.server_cpu_s = server_cpu() - server0
        self.generator_cpu_s = time.process_time() - gen0
