"""Background work of a serving process: the outbox relay and the scheduled jobs of every domain.

Jobs are registered in `JOBS` by name with an interval; each runs in its own thread loop, in its own unit
of work, and a failure is logged and retried at the next tick (jobs are idempotent by design).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from atrium.config import Settings
from atrium.db.runtime import get_db
from atrium.db.session import Database
from atrium.logs import get_logger

log = get_logger("atrium.runtime")


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: float
    run: Callable[[Database], object]


JOBS: list[Job] = []


JobFn = Callable[[Database], object]


def job(name: str, interval_s: float) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        JOBS.append(Job(name, interval_s, fn))
        return fn

    return register


def load_jobs() -> list[Job]:
    """Import every domain's tasks module so their @job decorators register."""
    import atrium.tasks  # noqa: F401

    return JOBS


class BackgroundRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._relay = None

    async def start(self) -> None:
        from atrium.events.relay import start_relay

        db = get_db()
        self._relay = await start_relay(db, self.settings)
        for j in load_jobs():
            t = threading.Thread(target=self._loop, args=(j, db), name=f"job:{j.name}", daemon=True)
            t.start()
            self._threads.append(t)

    def _loop(self, j: Job, db: Database) -> None:
        while not self._stop.wait(j.interval_s):
            try:
                j.run(db)
            except Exception:
                log.exception("job_failed", job=j.name)

    async def stop(self) -> None:
        self._stop.set()
        if self._relay is not None:
            await self._relay.stop()
        for t in self._threads:
            await asyncio.to_thread(t.join, 5)
