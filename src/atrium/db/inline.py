"""A group commit run by its caller's own thread: no writer thread, no queue, no hand-over.

`GroupCommitter` gathers units from many threads onto a writer thread. A caller that already gathers its
own batches — the risk decider's event loop, which reads every frame its workers sent while it was busy —
gains nothing from that thread and pays for it: in a process whose threads share one interpreter lock,
each hand-over (loop → writer → engine → writer → loop) waits for the lock, and under `atrium bench risk`
the decider's writer thread spent about a third of its time waiting rather than working.

`InlineCommitter.run_now(units)` runs one batch exactly as a writer would — `prepare_batch` outside the
transaction, `apply_batch` in one savepoint or unit by unit when it refuses, transient errors retried,
a failing COMMIT split — in the calling thread, and returns each unit's outcome after the COMMIT.
"""

from __future__ import annotations

import threading
from typing import Any

from atrium.db.batching import GroupCommitter, Work, _Item


class InlineCommitter(GroupCommitter):
    def _start_writers(self, name: str, writers: int) -> list[threading.Thread]:
        return []  # the caller runs each batch (run_now)

    def submit_future(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("an InlineCommitter runs batches its caller hands it: use run_now")

    def run_now(self, units: list[tuple[Work, Any]]) -> list[tuple[bool, Any]]:
        """Run `(fn, request)` units as one batch in this thread; per unit `(True, value)` or `(False,
        exception)`, known only once the batch committed (or could not)."""
        if self._closed:
            raise RuntimeError("the group committer is closed")
        batch = [_Item(fn, frozenset(), request) for fn, request in units]
        try:
            outcomes = self._run_batch(batch, self._prepare(batch))
        except Exception as exc:  # a batch that cannot commit: every unit learns why
            outcomes = [(False, exc)] * len(batch)
        with self._lock:
            self.stats.count(len(batch), sum(1 for ok, _ in outcomes if not ok))
        return outcomes
