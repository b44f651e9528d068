"""Many simple transfers in one call: one lock statement, one key lookup, one journal insert, one legs
insert and one UPDATE per touched account — for callers (the benchmark, bulk jobs) that batch many
transfers into one database transaction.

Each request keeps its own idempotency key and meaning: a key already posted replays its journal, a key
repeated inside the batch with the same request gets the same journal, with another request a 409. All
requests are decided in memory first (in order, so a later transfer sees an earlier one's effect); if any
is refused (insufficient funds, unknown account, …) the call raises and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.ledger import domain
from atrium.ledger import repository as repo
from atrium.ledger.errors import InvalidLedgerRequest
from atrium.ledger.schemas import JournalRead, LegRead, TransferRequest
from atrium.ledger.service._common import (
    balance_of,
    check_description,
    check_key,
    check_kind,
    check_metadata,
    conflict,
    journal_read,
    lock,
    store_totals,
)
from atrium.ledger.service.journals import post_transfer, transfer_hash


def _validated(req: TransferRequest) -> tuple[TransferRequest, str]:
    if not isinstance(req, TransferRequest):
        raise InvalidLedgerRequest("post_transfers takes TransferRequest values")
    key = check_key(req.idempotency_key)
    domain.check_amount(req.amount_minor)
    currency = domain.check_ledger_currency(req.currency)
    kind, description = check_kind(req.kind), check_description(req.description)
    meta = check_metadata(req.metadata)
    if req.debit_account_id == req.credit_account_id:
        raise InvalidLedgerRequest(
            "the debit and credit accounts must differ", account_id=req.debit_account_id
        )
    clean = TransferRequest(
        key, req.debit_account_id, req.credit_account_id, req.amount_minor, currency, kind, description, meta
    )
    return clean, transfer_hash(
        debit_account_id=req.debit_account_id, credit_account_id=req.credit_account_id,
        amount_minor=req.amount_minor, currency=currency, kind=kind, description=description, metadata=meta,
    )


def post_transfers(session: Session, requests: Sequence[TransferRequest]) -> list[JournalRead]:
    """Post every transfer (or replay it); results in request order."""
    checked = [_validated(r) for r in requests]
    if not checked:
        return []
    account_ids = sorted({a for req, _ in checked for a in (req.debit_account_id, req.credit_account_id)})
    rows = lock(session, account_ids)
    used = repo.find_keys(session, [req.idempotency_key for req, _ in checked])
    balances = {aid: balance_of(rows[aid]) for aid in account_ids}

    now = clock.now()
    results: list[JournalRead | str] = []  # a read, or the id of an earlier journal to load
    in_batch: dict[str, tuple[str, JournalRead]] = {}
    journals: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    for req, request_hash in checked:
        key = req.idempotency_key
        if key in used:
            use = used[key]
            if use.what != "journal" or use.request_hash != request_hash:
                raise conflict(key)
            results.append(use.id)
            continue
        if key in in_batch:
            first_hash, first = in_batch[key]
            if first_hash != request_hash:
                raise conflict(key)
            results.append(first)
            continue
        debit, credit = balances[req.debit_account_id], balances[req.credit_account_id]
        planned = domain.plan_transfer(debit, credit, req.amount_minor, req.currency)
        journal_id = new_id("jnl")
        journals.append({
            "id": journal_id, "idempotency_key": key, "request_hash": request_hash, "kind": req.kind,
            "description": req.description, "meta": req.metadata, "reverses_id": None, "hold_id": None,
            "posted_at": now,
        })
        legs.extend(
            {"journal_id": journal_id, "account_id": p.account_id, "side": p.side.value,
             "amount_minor": p.amount_minor, "currency": p.currency,
             "balance_after_minor": p.balance_after_minor, "posted_at": now}
            for p in planned
        )
        read = JournalRead(
            id=journal_id, kind=req.kind, description=req.description, metadata=req.metadata or {},
            posted_at=now,
            legs=[LegRead(account_id=p.account_id, side=p.side.value, amount_minor=p.amount_minor,  # type: ignore[arg-type]
                          currency=p.currency, balance_after_minor=p.balance_after_minor) for p in planned],
        )
        in_batch[key] = (request_hash, read)
        results.append(read)

    if journals:
        try:
            # A savepoint, so a key taken meanwhile by a concurrent request on other accounts (the only
            # way the unique index can still object, our accounts being locked) costs a retry, not the
            # caller's transaction.
            with session.begin_nested():
                repo.insert_journals(session, journals)
        except IntegrityError:
            return [post_transfer(session, **_kwargs(req)) for req, _ in checked]
        repo.insert_legs(session, legs)
        store_totals(session, rows, list(balances.values()))

    earlier = repo.journals_with_legs(session, [r for r in results if isinstance(r, str)])
    return [journal_read(*earlier[r]) if isinstance(r, str) else r for r in results]


def _kwargs(req: TransferRequest) -> dict[str, Any]:
    return {
        "idempotency_key": req.idempotency_key, "debit_account_id": req.debit_account_id,
        "credit_account_id": req.credit_account_id, "amount_minor": req.amount_minor,
        "currency": req.currency, "kind": req.kind, "description": req.description,
        "metadata": req.metadata,
    }
