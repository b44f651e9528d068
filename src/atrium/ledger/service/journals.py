"""Posting journals: simple transfers, multi-leg journals, reversals.

Every use case runs in the same order, which is what makes it safe under concurrency and retries:
validate the request → lock the touched accounts (ascending id, FOR UPDATE) → look the idempotency key up
(after the locks, so a duplicate racing on the same accounts sees the first one's commit) → decide in
pure domain code → write (journal ON CONFLICT DO NOTHING, legs, totals) → flush.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from atrium.kit.hashing import fingerprint
from atrium.ledger import domain
from atrium.ledger import repository as repo
from atrium.ledger.domain import LegSpec, Side
from atrium.ledger.errors import AlreadyReversed, InvalidLedgerRequest, JournalNotFound
from atrium.ledger.schemas import JournalRead
from atrium.ledger.service._common import (
    balance_of,
    check_description,
    check_key,
    check_kind,
    check_metadata,
    load_journal,
    lock,
    replay_journal,
    write_journal,
)

REVERSAL_KIND = "reversal"


def transfer_hash(
    *, debit_account_id: str, credit_account_id: str, amount_minor: int, currency: str, kind: str,
    description: str, metadata: dict[str, Any],
) -> str:
    return fingerprint({
        "op": "transfer", "debit": debit_account_id, "credit": credit_account_id,
        "amount_minor": amount_minor, "currency": currency, "kind": kind, "description": description,
        "metadata": metadata,
    })


def post_transfer(
    session: Session,
    *,
    idempotency_key: str,
    debit_account_id: str,
    credit_account_id: str,
    amount_minor: int,
    currency: str,
    kind: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> JournalRead:
    """Move `amount_minor` from the debit account to the credit account in one balanced journal."""
    key = check_key(idempotency_key)
    domain.check_amount(amount_minor)
    currency = domain.check_ledger_currency(currency)
    kind, description, meta = check_kind(kind), check_description(description), check_metadata(metadata)
    request_hash = transfer_hash(
        debit_account_id=debit_account_id, credit_account_id=credit_account_id, amount_minor=amount_minor,
        currency=currency, kind=kind, description=description, metadata=meta,
    )
    if debit_account_id == credit_account_id:
        raise InvalidLedgerRequest("the debit and credit accounts must differ", account_id=debit_account_id)
    rows = lock(session, [debit_account_id, credit_account_id])
    replayed = replay_journal(session, key, request_hash)
    if replayed is not None:
        return replayed
    debit, credit = balance_of(rows[debit_account_id]), balance_of(rows[credit_account_id])
    planned = domain.plan_transfer(debit, credit, amount_minor, currency)
    return write_journal(
        session, key=key, request_hash=request_hash, kind=kind, description=description, metadata=meta,
        planned=planned, rows=rows, balances=[debit, credit],
    )


def post_journal(
    session: Session,
    *,
    idempotency_key: str,
    legs: Sequence[LegSpec],
    kind: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> JournalRead:
    """Post a multi-leg journal; its legs must balance in each currency."""
    key = check_key(idempotency_key)
    kind, description, meta = check_kind(kind), check_description(description), check_metadata(metadata)
    specs = list(legs)
    for leg in specs:
        if not isinstance(leg, LegSpec):
            raise InvalidLedgerRequest("legs must be LegSpec values")
        domain.check_side(leg.side)
        domain.check_amount(leg.amount_minor)
        if leg.currency is not None:
            domain.check_ledger_currency(leg.currency)
    request_hash = fingerprint({
        "op": "journal", "kind": kind, "description": description, "metadata": meta,
        "legs": [[leg.account_id, str(leg.side), leg.amount_minor, leg.currency] for leg in specs],
    })
    account_ids = sorted({leg.account_id for leg in specs})
    rows = lock(session, account_ids)
    replayed = replay_journal(session, key, request_hash)
    if replayed is not None:
        return replayed
    balances = {aid: balance_of(rows[aid]) for aid in account_ids}
    planned = domain.plan_journal(balances, specs)
    return write_journal(
        session, key=key, request_hash=request_hash, kind=kind, description=description, metadata=meta,
        planned=planned, rows=rows, balances=list(balances.values()),
    )


def reverse(session: Session, *, journal_id: str, idempotency_key: str, reason: str) -> JournalRead:
    """Undo a journal with a new one whose sides are swapped; each journal is reversed at most once.

    A reversal respects balance floors like any other journal: reversing a deposit that was already
    spent is refused with InsufficientFunds rather than taking the account below its floor.
    """
    key = check_key(idempotency_key)
    reason = check_description(reason)
    request_hash = fingerprint({"op": "reverse", "journal_id": journal_id, "reason": reason})
    account_ids = repo.journal_account_ids(session, journal_id)
    if not account_ids:
        raise JournalNotFound(f"journal {journal_id} does not exist", journal_id=journal_id)
    rows = lock(session, account_ids)
    replayed = replay_journal(session, key, request_hash)
    if replayed is not None:
        return replayed
    # Checked with the locks held: a concurrent reversal touches the same accounts, so it has committed.
    existing = repo.reversal_of(session, journal_id)
    if existing is not None:
        raise AlreadyReversed(
            f"journal {journal_id} was already reversed by {existing}",
            journal_id=journal_id, reversal_id=existing,
        )
    original = load_journal(session, journal_id)
    specs = [
        LegSpec(leg.account_id, Side.CREDIT if leg.side == "debit" else Side.DEBIT, leg.amount_minor,
                leg.currency)
        for leg in original.legs
    ]
    balances = {aid: balance_of(rows[aid]) for aid in account_ids}
    planned = domain.plan_journal(balances, specs)
    return write_journal(
        session, key=key, request_hash=request_hash, kind=REVERSAL_KIND, description=reason,
        metadata={"reversed_kind": original.kind}, planned=planned, rows=rows,
        balances=list(balances.values()), reverses_id=journal_id,
    )
