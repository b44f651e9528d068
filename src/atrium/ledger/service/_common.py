"""Shared plumbing of the ledger use cases: validation of request fields, row ↔ balance copies, read
models, idempotency replay, and the one place a journal is written."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from atrium.kit import clock
from atrium.kit.errors import IdempotencyConflict
from atrium.kit.ids import new_id
from atrium.ledger import repository as repo
from atrium.ledger.domain import AccountBalance, PlannedLeg
from atrium.ledger.errors import AccountNotFound, InvalidLedgerRequest, JournalNotFound
from atrium.ledger.models import Hold, Journal, LedgerAccount, Leg
from atrium.ledger.schemas import HoldRead, JournalRead, LedgerAccountRead, LegRead

MAX_KEY_LENGTH = 120
MAX_METADATA_BYTES = 4096


def check_key(key: object) -> str:
    if not isinstance(key, str) or not (1 <= len(key) <= MAX_KEY_LENGTH) or not key.isprintable():
        raise InvalidLedgerRequest(f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable characters")
    return key


def check_kind(kind: object) -> str:
    if not isinstance(kind, str) or not (1 <= len(kind) <= 40):
        raise InvalidLedgerRequest("a journal kind is 1 to 40 characters")
    return kind


def check_description(description: object) -> str:
    if not isinstance(description, str) or len(description) > 500:
        raise InvalidLedgerRequest("a description is at most 500 characters")
    return description


def check_metadata(metadata: object) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidLedgerRequest("metadata must be a JSON object")
    try:
        encoded = json.dumps(dict(metadata), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidLedgerRequest("metadata must be JSON-serialisable") from exc
    if len(encoded) > MAX_METADATA_BYTES:
        raise InvalidLedgerRequest(f"metadata is limited to {MAX_METADATA_BYTES} bytes of JSON")
    return json.loads(encoded)  # a plain, detached copy: the caller's dict cannot change what we stored


def check_aware(at: object, name: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidLedgerRequest(f"{name} must be a timezone-aware datetime")
    return at


# --- accounts -----------------------------------------------------------------------------------------


def lock(session: Session, ids: Sequence[str]) -> dict[str, LedgerAccount]:
    rows = repo.lock_accounts(session, ids)
    for account_id in ids:
        if account_id not in rows:
            raise AccountNotFound(f"ledger account {account_id} does not exist", account_id=account_id)
    return rows


def balance_of(row: LedgerAccount) -> AccountBalance:
    return AccountBalance(
        id=row.id, type=row.type, currency=row.currency, enforce_floor=row.enforce_floor,
        overdraft_limit_minor=row.overdraft_limit_minor, debits_posted=row.debits_posted,
        credits_posted=row.credits_posted, debits_pending=row.debits_pending,
        credits_pending=row.credits_pending,
    )


def write_back(rows: Mapping[str, LedgerAccount], balances: Sequence[AccountBalance]) -> None:
    """Copy decided totals onto the locked rows (the flush turns changed ones into UPDATEs)."""
    for bal in balances:
        row = rows[bal.id]
        row.debits_posted = bal.debits_posted
        row.credits_posted = bal.credits_posted
        row.debits_pending = bal.debits_pending
        row.credits_pending = bal.credits_pending


def store_totals(
    session: Session, rows: Mapping[str, LedgerAccount], balances: Sequence[AccountBalance]
) -> None:
    """The journal path's write-back: one Core executemany for every changed account, and the ORM rows
    told the new values as already committed (so no second UPDATE at flush, and reads stay exact)."""
    changed = [b for b in balances if b.totals() != _row_totals(rows[b.id])]
    repo.update_totals(session, [
        {"account_id": b.id, "dp": b.debits_posted, "cp": b.credits_posted, "dpend": b.debits_pending,
         "cpend": b.credits_pending}
        for b in changed
    ])
    for b in changed:
        row = rows[b.id]
        for name, value in zip(_TOTALS, b.totals(), strict=True):
            set_committed_value(row, name, value)


_TOTALS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")


def _row_totals(row: LedgerAccount) -> tuple[int, int, int, int]:
    return (row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending)


def account_read(row: LedgerAccount) -> LedgerAccountRead:
    bal = balance_of(row)
    return LedgerAccountRead(
        id=row.id, code=row.code, name=row.name, type=row.type,  # type: ignore[arg-type]
        currency=row.currency, enforce_floor=row.enforce_floor,
        overdraft_limit_minor=row.overdraft_limit_minor, debits_posted=row.debits_posted,
        credits_posted=row.credits_posted, debits_pending=row.debits_pending,
        credits_pending=row.credits_pending, booked_minor=bal.booked,
        pending_debits_minor=row.debits_pending, pending_credits_minor=row.credits_pending,
        available_minor=bal.available, created_at=row.created_at,
    )


# --- journals -----------------------------------------------------------------------------------------


def journal_read(journal: Journal, legs: Sequence[Leg]) -> JournalRead:
    return JournalRead(
        id=journal.id, kind=journal.kind, description=journal.description, metadata=journal.meta or {},
        posted_at=journal.posted_at, reverses_id=journal.reverses_id, hold_id=journal.hold_id,
        legs=[
            LegRead(account_id=leg.account_id, side=leg.side, amount_minor=leg.amount_minor,  # type: ignore[arg-type]
                    currency=leg.currency, balance_after_minor=leg.balance_after_minor)
            for leg in legs
        ],
    )


def load_journal(session: Session, journal_id: str) -> JournalRead:
    found = repo.journals_with_legs(session, [journal_id]).get(journal_id)
    if found is None:
        raise JournalNotFound(f"journal {journal_id} does not exist", journal_id=journal_id)
    return journal_read(*found)


def conflict(key: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        "this idempotency key was already used with a different ledger request", idempotency_key=key
    )


def replay_journal(session: Session, key: str, request_hash: str) -> JournalRead | None:
    """The first result if `key` already posted this very request; 409 if it was used otherwise."""
    use = repo.find_keys(session, [key]).get(key)
    if use is None:
        return None
    if use.what != "journal" or use.request_hash != request_hash:
        raise conflict(key)
    return load_journal(session, use.id)


def write_journal(
    session: Session,
    *,
    key: str,
    request_hash: str,
    kind: str,
    description: str,
    metadata: dict[str, Any],
    planned: Sequence[PlannedLeg],
    rows: Mapping[str, LedgerAccount],
    balances: Sequence[AccountBalance],
    reverses_id: str | None = None,
    hold_id: str | None = None,
) -> JournalRead:
    """Insert the journal, its legs and the new totals. If a concurrent writer took `key` first (the
    ON CONFLICT path), nothing is written and its result is replayed or refused."""
    journal_id = new_id("jnl")
    now = clock.now()
    inserted = repo.insert_journal(
        session,
        {
            "id": journal_id, "idempotency_key": key, "request_hash": request_hash, "kind": kind,
            "description": description, "meta": metadata, "reverses_id": reverses_id,
            "hold_id": hold_id, "posted_at": now,
        },
    )
    if not inserted:
        replayed = replay_journal(session, key, request_hash)
        if replayed is None:  # the other writer rolled back between our insert and our read: rare
            raise conflict(key)
        return replayed
    repo.insert_legs(
        session,
        [
            {"journal_id": journal_id, "account_id": p.account_id, "side": p.side.value,
             "amount_minor": p.amount_minor, "currency": p.currency,
             "balance_after_minor": p.balance_after_minor, "posted_at": now}
            for p in planned
        ],
    )
    store_totals(session, rows, balances)
    return JournalRead(
        id=journal_id, kind=kind, description=description, metadata=metadata, posted_at=now,
        reverses_id=reverses_id, hold_id=hold_id,
        legs=[
            LegRead(account_id=p.account_id, side=p.side.value, amount_minor=p.amount_minor,  # type: ignore[arg-type]
                    currency=p.currency, balance_after_minor=p.balance_after_minor)
            for p in planned
        ],
    )


# --- holds --------------------------------------------------------------------------------------------


def hold_read(hold: Hold) -> HoldRead:
    return HoldRead(
        id=hold.id, debit_account_id=hold.debit_account_id, credit_account_id=hold.credit_account_id,
        amount_minor=hold.amount_minor, currency=hold.currency, status=hold.status,  # type: ignore[arg-type]
        kind=hold.kind, description=hold.description, metadata=hold.meta or {},
        expires_at=hold.expires_at, created_at=hold.created_at, resolved_at=hold.resolved_at,
        posted_amount_minor=hold.posted_amount_minor,
    )
