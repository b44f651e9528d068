"""The ledger alone, one transfer per transaction vs set-wise group commit: what batching is worth.

The payments path spends milliseconds of Python and ~36 statements per transfer, which hides the
database's share of the cost. These runs post the same double-entry transfers straight to the ledger
service (journal, legs, cached totals, balance floor, idempotency key — no limits, Transfer row or outbox):

- `ledger-direct`: `ledger.post_transfer` in one transaction per transfer;
- `ledger-batched`: a `GroupCommitter` with `apply_batch=ledger.post_transfers`: the whole batch is posted
  set-wise (one lock statement, one key lookup, one multi-row insert each for journals and legs, one
  UPDATE per touched account) and committed once; `post_transfer` per unit is the fallback.

They are labelled as ledger-only rows in the report: they measure how far batching moves the ceiling that
pgbench shows (BENCHMARKS.md §1's anchor), not the payment path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from atrium.bench.load import AccountChooser, LoadResult, run_closed_loop
from atrium.bench.population import BenchAccount
from atrium.db.batching import GroupCommitter
from atrium.db.session import Database

MODES = ("ledger-direct", "ledger-batched")


def run(db: Database, accounts: list[BenchAccount], *, mode: str, workload: str, clients: int,
        seconds: float, warmup: float, writers: int, max_batch: int, run_id: str,
        on_tick: Callable[[float], None] | None = None) -> tuple[LoadResult, dict[str, Any]]:
    from atrium.ledger import service as ledger
    from atrium.ledger.schemas import TransferRequest

    chooser = AccountChooser(len(accounts), workload)
    committer = None
    extra: dict[str, Any] = {}
    if mode == "ledger-batched":
        writers = 1 if db.is_sqlite else writers
        committer = GroupCommitter(db, max_batch=max_batch, writers=writers,
                                   apply_batch=ledger.post_transfers, name=f"bench-{run_id}")
        extra["writers"] = writers

    def op(k: int, seq: int) -> None:
        a, b = chooser.pair()
        req = TransferRequest(
            idempotency_key=f"{run_id}-{k}-{seq}", debit_account_id=accounts[a].ledger_account_id,
            credit_account_id=accounts[b].ledger_account_id, amount_minor=chooser.amount(), currency="CNY",
            kind="bench.transfer", description="bench",
        )

        def one(session):  # type: ignore[no-untyped-def]
            return ledger.post_transfer(session, **asdict(req))

        if committer is None:
            db.run(one)
        else:
            keys = (req.debit_account_id, req.credit_account_id)
            committer.submit(one, keys=keys, request=req, timeout=120)

    try:
        result = run_closed_loop(clients, op, seconds=seconds, warmup=warmup, on_tick=on_tick)
    finally:
        if committer is not None:
            committer.close()
    if committer is not None:
        st = committer.stats
        extra.update(mean_batch=round(st.mean_batch, 1), largest_batch=st.largest_batch,
                     retried_batches=st.retried_batches, set_wise_batches=st.applied_whole,
                     fallback_batches=st.applied_fallback)
    return result, extra
