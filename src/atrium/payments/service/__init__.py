"""Payment use cases (`atrium.payments.service`): the one door other domains and the edge use.

- `transfer(...)`: the contract of docs/architecture.md; `execute(...)` with a `ResolvedDestination` is
  the reusable core for other payment kinds (QR pay, scheduled and standing orders).
- payees: `save_payee`, `list_payees`, `get_payee`, `rename_payee`, `delete_payee`.
- the clearing rail: `process_rail(db)` (one synchronous round), `submit_pending`, `receive_notifications`,
  `apply_notification`, `list_banks`.
"""

from __future__ import annotations

from atrium.payments.rail import directory
from atrium.payments.schemas import BankRead
from atrium.payments.service.authority import authorize, payee_key, signing_payee, summary
from atrium.payments.service.destinations import ResolvedDestination, check_source, resolve
from atrium.payments.service.interbank import (
    RailRunReport,
    apply_notification,
    fail_transfer,
    process_rail,
    receive_notifications,
    submit_pending,
)
from atrium.payments.service.payees import (
    delete_payee,
    get_payee,
    list_payees,
    rename_payee,
    save_payee,
)
from atrium.payments.service.transfers import (
    count_pending_interbank,
    count_since,
    execute,
    existing_ids,
    get_transfer,
    get_transfer_for_bank,
    list_transfers,
    request_fingerprint,
    transfer,
)


def list_banks() -> list[BankRead]:
    """The banks a customer can pay through the clearing rail (for the payee form)."""
    return [
        BankRead(code=p.code, name=p.name, local_name=p.local_name, currencies=list(p.currencies))
        for p in directory.reachable()
    ]


__all__ = [
    "RailRunReport",
    "ResolvedDestination",
    "apply_notification",
    "authorize",
    "count_pending_interbank",
    "count_since",
    "check_source",
    "delete_payee",
    "execute",
    "existing_ids",
    "fail_transfer",
    "get_payee",
    "get_transfer",
    "get_transfer_for_bank",
    "list_banks",
    "list_payees",
    "list_transfers",
    "payee_key",
    "process_rail",
    "receive_notifications",
    "rename_payee",
    "request_fingerprint",
    "resolve",
    "save_payee",
    "signing_payee",
    "submit_pending",
    "summary",
    "transfer",
]
