"""Holds (TigerBeetle's pending transfers): place → post (full or partial) | void | expire.

A pending hold reserves funds in the pending totals of both accounts; resolving it releases the whole
reservation, and a post also writes a journal for the captured part. All changes to a hold happen with
both of its accounts locked, so the account locks serialise them (no separate hold lock is needed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.hashing import fingerprint
from atrium.kit.ids import new_id
from atrium.ledger import domain
from atrium.ledger import repository as repo
from atrium.ledger.domain import HoldStatus
from atrium.ledger.errors import HoldExpired, HoldNotFound, InvalidLedgerRequest
from atrium.ledger.models import Hold
from atrium.ledger.schemas import HoldRead, JournalRead
from atrium.ledger.service._common import (
    balance_of,
    check_aware,
    check_description,
    check_key,
    check_kind,
    check_metadata,
    conflict,
    hold_read,
    lock,
    replay_journal,
    write_back,
    write_journal,
)


def _get_hold(session: Session, hold_id: str) -> Hold:
    hold = repo.get_hold(session, hold_id)
    if hold is None:
        raise HoldNotFound(f"hold {hold_id} does not exist", hold_id=hold_id)
    return hold


def place_hold(
    session: Session,
    *,
    idempotency_key: str,
    debit_account_id: str,
    credit_account_id: str,
    amount_minor: int,
    currency: str,
    expires_at: datetime,
    kind: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> HoldRead:
    """Reserve `amount_minor` from the debit account for the credit account until `expires_at`.

    `expires_at` is not part of the request's identity: a caller that retries and recomputes
    "now + TTL" replays the first hold (with its first expiry) instead of getting a 409.
    """
    key = check_key(idempotency_key)
    domain.check_amount(amount_minor)
    currency = domain.check_ledger_currency(currency)
    expires_at = check_aware(expires_at, "expires_at")
    kind, description, meta = check_kind(kind), check_description(description), check_metadata(metadata)
    if debit_account_id == credit_account_id:
        raise InvalidLedgerRequest("the debit and credit accounts must differ", account_id=debit_account_id)
    request_hash = fingerprint({
        "op": "place_hold", "debit": debit_account_id, "credit": credit_account_id,
        "amount_minor": amount_minor, "currency": currency, "kind": kind, "description": description,
        "metadata": meta,
    })
    rows = lock(session, [debit_account_id, credit_account_id])
    replayed = _replay_hold(session, key, request_hash, "hold")
    if replayed is not None:
        return replayed
    now = clock.now()
    if expires_at <= now:
        raise InvalidLedgerRequest("expires_at must be in the future")
    debit, credit = balance_of(rows[debit_account_id]), balance_of(rows[credit_account_id])
    domain.reserve_hold(debit, credit, amount_minor, currency)
    values = {
        "id": new_id("hld"), "idempotency_key": key, "request_hash": request_hash,
        "debit_account_id": debit_account_id, "credit_account_id": credit_account_id,
        "amount_minor": amount_minor, "currency": currency, "status": HoldStatus.PENDING.value,
        "kind": kind, "description": description, "meta": meta, "expires_at": expires_at,
        "created_at": now, "resolved_at": None, "posted_amount_minor": None,
    }
    if not repo.insert_hold(session, values):  # a concurrent writer took the key first
        replayed = _replay_hold(session, key, request_hash, "hold")
        if replayed is None:
            raise conflict(key)
        return replayed
    write_back(rows, [debit, credit])
    session.flush()
    return HoldRead(
        id=values["id"], debit_account_id=debit_account_id, credit_account_id=credit_account_id,
        amount_minor=amount_minor, currency=currency, status="pending", kind=kind, description=description,
        metadata=meta, expires_at=expires_at, created_at=now, resolved_at=None, posted_amount_minor=None,
    )


def _replay_hold(session: Session, key: str, request_hash: str, what: str) -> HoldRead | None:
    use = repo.find_keys(session, [key]).get(key)
    if use is None:
        return None
    if use.what != what or use.request_hash != request_hash:
        raise conflict(key)
    return hold_read(_get_hold(session, use.id))


def post_hold(
    session: Session, *, hold_id: str, idempotency_key: str, amount_minor: int | None = None
) -> JournalRead:
    """Capture the hold (all of it, or `amount_minor` of it) as a journal; the rest is released."""
    key = check_key(idempotency_key)
    if amount_minor is not None:
        domain.check_amount(amount_minor)
    request_hash = fingerprint({"op": "post_hold", "hold_id": hold_id, "amount_minor": amount_minor})
    hold = _get_hold(session, hold_id)
    rows = lock(session, [hold.debit_account_id, hold.credit_account_id])
    replayed = replay_journal(session, key, request_hash)
    if replayed is not None:
        return replayed
    hold = _get_hold(session, hold_id)  # as committed now that its accounts are locked
    domain.transition(hold.id, hold.status, HoldStatus.POSTED)
    now = clock.now()
    if hold.expires_at <= now:
        raise HoldExpired(
            f"hold {hold.id} expired at {hold.expires_at.isoformat()}", hold_id=hold.id, status="expired"
        )
    amount = domain.capture_amount(hold.amount_minor, amount_minor)
    debit, credit = balance_of(rows[hold.debit_account_id]), balance_of(rows[hold.credit_account_id])
    planned = domain.plan_capture(debit, credit, hold.amount_minor, amount, hold.currency)
    journal = write_journal(
        session, key=key, request_hash=request_hash, kind=hold.kind, description=hold.description,
        metadata=hold.meta or {}, planned=planned, rows=rows, balances=[debit, credit], hold_id=hold.id,
    )
    hold.status = HoldStatus.POSTED.value
    hold.resolved_at = now
    hold.posted_amount_minor = amount
    session.flush()
    return journal


def void_hold(session: Session, *, hold_id: str, idempotency_key: str) -> HoldRead:
    """Release the hold's whole reservation without posting anything."""
    key = check_key(idempotency_key)
    request_hash = fingerprint({"op": "void_hold", "hold_id": hold_id})
    hold = _get_hold(session, hold_id)
    rows = lock(session, [hold.debit_account_id, hold.credit_account_id])
    replayed = _replay_hold(session, key, request_hash, "void")
    if replayed is not None:
        return replayed
    hold = _get_hold(session, hold_id)
    domain.transition(hold.id, hold.status, HoldStatus.VOIDED)
    debit, credit = balance_of(rows[hold.debit_account_id]), balance_of(rows[hold.credit_account_id])
    domain.release_hold(debit, credit, hold.amount_minor)
    try:
        # A savepoint: if a concurrent void of another hold took this key, only this step rolls back
        # and the caller's transaction stays usable.
        with session.begin_nested():
            hold.status = HoldStatus.VOIDED.value
            hold.resolved_at = clock.now()
            hold.void_idempotency_key = key
            hold.void_request_hash = request_hash
            write_back(rows, [debit, credit])
    except IntegrityError:
        raise conflict(key) from None
    return hold_read(hold)


def expire_holds(session: Session, now: datetime | None = None, *, limit: int = 500) -> int:
    """Expire up to `limit` pending holds whose time has passed; returns how many were expired."""
    now = check_aware(now, "now") if now is not None else clock.now()
    candidates = repo.expired_pending_holds(session, now, limit)
    if not candidates:
        return 0
    account_ids = sorted({a for _, d, c in candidates for a in (d, c)})
    rows = lock(session, account_ids)
    balances = {aid: balance_of(rows[aid]) for aid in account_ids}
    expired = 0
    for hold in repo.holds(session, [hold_id for hold_id, _, _ in candidates]):
        # Re-read under the locks: a post or void may have resolved it since the scan.
        if hold.status != HoldStatus.PENDING or hold.expires_at > now:
            continue
        domain.transition(hold.id, hold.status, HoldStatus.EXPIRED)
        debit, credit = balances[hold.debit_account_id], balances[hold.credit_account_id]
        domain.release_hold(debit, credit, hold.amount_minor)
        hold.status = HoldStatus.EXPIRED.value
        hold.resolved_at = now
        expired += 1
    write_back(rows, list(balances.values()))
    session.flush()
    return expired
