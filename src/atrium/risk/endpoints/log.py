"""The decision log's group commit: concurrent decisions share one transaction and one COMMIT.

Each decision runs `atrium.risk.service.screening.screen` — the one decision path — as a unit of an
`atrium.db.batching.GroupCommitter` (its own SAVEPOINT inside the batch's transaction). The caller is
answered only after its batch committed: an answered decision is in `risk_decisions` (durable), and a crash
before the COMMIT answers nobody (the client's retry with the same transaction id is decided then, once).
A unit that fails (a changed retry: `SubjectConflict`) rolls back alone and its caller gets the error.

A batch is first decided as a whole (`screening.screen_many`: one configuration read, one catch-up with
the log, one hand-over to the engine thread and one INSERT for all of it); if it refuses — a retry or a
repeated transaction id among them — the batch runs decision by decision through `screen`. Its decisions
are made before its transaction, in a read transaction (`decide_many`), and only logged inside it
(`log_many`): on SQLite, whose write lock a transaction holds from BEGIN, two server processes then
overlap their deciding and queue only to write.

One committer per process and database, made on first use; a test or the bench that swaps the process's
database gets a fresh one.
"""

from __future__ import annotations

import functools
import threading

from atrium.config import get_settings
from atrium.db.batching import GroupCommitter
from atrium.db.inline import InlineCommitter
from atrium.db.runtime import get_db
from atrium.db.session import Database
from atrium.logs import get_logger
from atrium.risk.schemas import DecisionRead, RiskEventIn
from atrium.risk.service import screen
from atrium.risk.service.screening import DecidedBatch, decide_many, log_many

log = get_logger("atrium.risk.decision_log")


class DecisionLog:
    def __init__(self, db: Database, *, inline: bool = False) -> None:
        settings = get_settings().risk_api
        self.db = db
        self.inline = inline
        self.max_batch = settings.max_batch
        committer = InlineCommitter if inline else GroupCommitter
        self.committer = committer(
            db, max_batch=settings.max_batch, max_wait_ms=settings.max_wait_ms,
            writers=1 if db.is_sqlite else settings.pg_writers, name="risk-decision-log",
            prepare_batch=self.decide, apply_batch=log_many,
        )

    def decide(self, events: list[RiskEventIn]) -> DecidedBatch:
        """A batch's decisions, made before its transaction (in a read transaction of their own): the
        group commit's first step, and the decider's when its log writer logs them (`decider_process`)."""
        with self.db.read_session() as session:
            return decide_many(session, events, inline=self.inline)

    def screen_now(self, events: list[RiskEventIn]) -> list[tuple[bool, DecisionRead | Exception]]:
        """An inline log's batch (the decider's): decide and log `events` in this thread, the engine
        included; per event `(True, decision)` or `(False, error)`, once the batch committed."""
        if not isinstance(self.committer, InlineCommitter):
            raise RuntimeError("screen_now is an inline log's (current(inline=True))")
        return self.committer.run_now([(functools.partial(screen, event=event), event) for event in events])

    async def screen(self, event: RiskEventIn) -> DecisionRead:
        """Decide and log `event`; returns once the decision is committed."""
        # The subject is the conflict key: a retry racing its original lands on the same writer, after it.
        return await self.committer.submit_async(lambda session: screen(session, event),
                                                 keys=((event.channel, event.subject_ref),), request=event)

    def close(self) -> None:
        self.committer.close()
        st = self.committer.stats
        log.info("risk_decision_log_closed", decisions=st.units, batches=st.batches,
                 mean_batch=round(st.mean_batch, 1), largest_batch=st.largest_batch,
                 set_wise=st.applied_whole, one_by_one=st.applied_fallback, retried=st.retried_batches)


_logs: dict[bool, DecisionLog] = {}  # inline or not: a test may run a decider beside a worker in one process
_lock = threading.Lock()


def current(*, inline: bool = False) -> DecisionLog:
    """The process's decision log (`inline`: the decider's, whose caller runs each batch itself)."""
    db = get_db()
    with _lock:
        decisions = _logs.get(inline)
        if decisions is None or decisions.db is not db:
            if decisions is not None:
                decisions.close()
            decisions = _logs[inline] = DecisionLog(db, inline=inline)
        return decisions


def close() -> None:
    """Finish (commit) what was submitted and stop the writers (process shutdown, tests)."""
    with _lock:
        for decisions in _logs.values():
            decisions.close()
        _logs.clear()
