"""SQLite's WAL checkpoints on a thread of their own, instead of inside some writer's COMMIT.

In WAL mode a COMMIT appends pages to the `-wal` file; a *checkpoint* copies them back into the database
file and syncs it. By default SQLite checkpoints inside whichever COMMIT takes the log past 1,000 pages
(`wal_autocheckpoint`). Measured under `atrium bench risk` (two server processes, ~13 KB of log per logged
decision, readers always present):

- the log is only *reset* (written from its start again) when a checkpoint finds no reader on an older
  snapshot; with readers always present that never happened, so the log grew past a gigabyte in a run and
  every COMMIT past the first 1,000 pages ran a checkpoint: a COMMIT took 2.4 ms on average and 14 % took
  over 5 ms, a fifth of the decision log's writer thread;
- with the checkpoints moved here, a COMMIT took 0.5 ms and the API answered 15–20 % more decisions a
  second.

What this thread does, every `interval_s`:

1. `PRAGMA wal_checkpoint(PASSIVE)`: copy what it can without waiting for anyone — readers and writers go
   on;
2. once the log holds `restart_frames` pages or more, `wal_checkpoint(RESTART)`: it waits (at most
   `busy_ms`, new writers waiting with it) for the readers of older snapshots to finish, copies the rest,
   and waits for the readers of the log to leave it, so the next COMMIT writes the log from its start. That
   bounds the `-wal` file. If readers take longer, it gives up and tries again on the next tick. Each
   restart stalls writers for a few milliseconds, hence a long log (256 MB by default): at 64 MB the
   bench's p99 latency doubled, at 256 MB it is unchanged;
3. once the log is quiet — all of it copied, and no page added for `quiet_s` (5 s) —
   `wal_checkpoint(TRUNCATE)`: the same as a restart, and the `-wal` file is cut to zero bytes. A RESTART
   reuses the file, so after a busy hour a quiet server kept a log of up to the restart size on disk.

Only a serving process runs one (the app's start-up calls `Database.checkpoint_in_background`). Its own
connections then checkpoint inside a COMMIT only past twice the restart size: a cap for a writer so busy
that the thread's RESTART never gets the lock. Batch jobs on the same file (`atrium demo seed`, `migrate`)
keep SQLite's default: one writer and no readers is what it suits, and there the seeder, taking the write
lock back between its transactions, starved the thread (a 758 MB log after seeding, 2.4 MB without it).
Two checkpointers (two server workers) simply take turns — SQLite runs one checkpoint at a time. Nothing
here touches durability: a checkpoint only moves committed pages from one file to the other, and SQLite
replays the log on open after a crash, checkpointed or not.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass

from atrium.logs import get_logger

log = get_logger("atrium.db.checkpoint")


@dataclass
class CheckpointStats:
    runs: int = 0
    restarts: int = 0  # RESTART checkpoints that reset the log
    truncates: int = 0  # TRUNCATE checkpoints of a quiet log (the file cut to zero bytes)
    busy: int = 0  # checkpoints that found another one running, or readers past `busy_ms`
    largest_log_pages: int = 0
    errors: int = 0
    seconds: float = 0.0  # spent checkpointing, all runs


class WalCheckpointer:
    """Checkpoints one SQLite database file every `interval_s` from a daemon thread (`start`/`stop`)."""

    def __init__(self, path: str, *, interval_s: float = 0.5, restart_frames: int = 65_536,
                 busy_ms: int = 100, quiet_s: float = 5.0) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.path, self.interval_s = path, interval_s
        self.restart_frames, self.busy_ms, self.quiet_s = restart_frames, busy_ms, quiet_s
        self.stats = CheckpointStats()
        self._last_pages, self._changed_at = -1, time.monotonic()  # the log's pages, and since when
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sqlite-wal-checkpoint", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.report()

    def report(self) -> None:
        """Log the totals so far (when the thread stops, and when a server shuts down)."""
        st = self.stats
        log.info("wal_checkpoints", runs=st.runs, restarts=st.restarts, truncates=st.truncates, busy=st.busy,
                 errors=st.errors,
                 largest_log_pages=st.largest_log_pages, seconds=round(st.seconds, 3))

    def _loop(self) -> None:
        connection: sqlite3.Connection | None = None
        while not self._stop.wait(self.interval_s):
            try:
                if connection is None:
                    connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                    connection.execute(f"PRAGMA busy_timeout={int(self.busy_ms)}")
                self.run_once(connection)
            except sqlite3.Error as exc:  # the file went away (a test's database), a disk error: next tick
                self.stats.errors += 1
                log.warning("wal_checkpoint_failed", error=type(exc).__name__, detail=str(exc))
                if connection is not None:
                    connection.close()
                    connection = None
        if connection is not None:
            connection.close()

    def run_once(self, connection: sqlite3.Connection) -> None:
        """One tick: a passive checkpoint, then a restart if the log is long, or a truncation if it is
        quiet."""
        st = self.stats
        started = time.perf_counter()
        busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        st.runs += 1
        st.largest_log_pages = max(st.largest_log_pages, pages)
        now = time.monotonic()
        quiet = pages == self._last_pages and 0 < pages == copied and now - self._changed_at >= self.quiet_s
        if pages != self._last_pages:
            self._last_pages, self._changed_at = pages, now
        if busy:
            st.busy += 1
        elif pages >= self.restart_frames or quiet:  # copies what the passive one could not reach, resets
            mode = "RESTART" if pages >= self.restart_frames else "TRUNCATE"
            busy, _, _ = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            if busy:
                st.busy += 1
            elif mode == "RESTART":
                st.restarts += 1
            else:
                st.truncates += 1
        st.seconds += time.perf_counter() - started
