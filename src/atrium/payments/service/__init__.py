"""Payment use cases (`atrium.payments.service`): the one door other domains and the edge use.

- `transfer(...)`: the contract of docs/architecture.md; `execute(...)` with a `ResolvedDestination` is
  the reusable core for other payment kinds (QR pay, scheduled and standing orders).
- risk (`service/risk.py`, `service/review.py`): `screen_payment`, `declined_error`, `risk_texts`;
  held transfers: `release_held`, `cancel_held`; a challenged payment the customer disowns:
  `report_not_me`.
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
from atrium.payments.service.queries import (
    count_held,
    count_pending_interbank,
    count_since,
    existing_ids,
    get_transfer,
    get_transfer_for_bank,
    list_transfers,
    transfer_for_decision,
)
from atrium.payments.service.review import cancel_held, release_held, report_not_me
from atrium.payments.service.risk import Verdict, declined_error, payee_ref, subject_ref
from atrium.payments.service.risk import opinion as risk_opinion
from atrium.payments.service.risk import screen as screen_payment
from atrium.payments.service.risk import texts as risk_texts
from atrium.payments.service.transfers import execute, request_fingerprint, transfer


def list_banks() -> list[BankRead]:
    """The banks a customer can pay through the clearing rail (for the payee form)."""
    return [
        BankRead(code=p.code, name=p.name, local_name=p.local_name, currencies=list(p.currencies))
        for p in directory.reachable()
    ]


__all__ = [
    "RailRunReport",
    "ResolvedDestination",
    "Verdict",
    "apply_notification",
    "authorize",
    "cancel_held",
    "count_held",
    "count_pending_interbank",
    "count_since",
    "check_source",
    "declined_error",
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
    "payee_ref",
    "process_rail",
    "receive_notifications",
    "release_held",
    "rename_payee",
    "report_not_me",
    "request_fingerprint",
    "resolve",
    "risk_opinion",
    "risk_texts",
    "save_payee",
    "screen_payment",
    "signing_payee",
    "subject_ref",
    "submit_pending",
    "summary",
    "transfer",
    "transfer_for_decision",
]
