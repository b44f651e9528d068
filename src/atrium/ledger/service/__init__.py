"""The ledger's use cases — the only entrance other domains use (with `schemas` and `errors`).

Services flush and never commit: the caller's unit of work (a request or a job) commits. Every write
takes an idempotency key; see the package docstring of `atrium.ledger` for the invariants.
"""

from atrium.ledger.domain import LegSpec
from atrium.ledger.schemas import TransferRequest
from atrium.ledger.service.accounts import (
    get_account,
    get_account_by_code,
    get_or_create_internal,
    open_account,
)
from atrium.ledger.service.batch import post_transfers
from atrium.ledger.service.holds import expire_holds, place_hold, post_hold, void_hold
from atrium.ledger.service.journals import post_journal, post_transfer, reverse
from atrium.ledger.service.queries import check, get_journal, list_entries, trial_balance

__all__ = [
    "LegSpec",
    "TransferRequest",
    "check",
    "expire_holds",
    "get_account",
    "get_account_by_code",
    "get_journal",
    "get_or_create_internal",
    "list_entries",
    "open_account",
    "place_hold",
    "post_hold",
    "post_journal",
    "post_transfer",
    "post_transfers",
    "reverse",
    "trial_balance",
    "void_hold",
]
