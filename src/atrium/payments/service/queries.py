"""Reading transfers: one (the owner's, or any for the bank), a customer's list, counts for dashboards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.payments.errors import InvalidPaymentDetails, TransferNotFound
from atrium.payments.models import Transfer
from atrium.payments.schemas import TransferPage, TransferRead
from atrium.payments.service.transfers import to_read


def get_transfer(session: Session, *, customer_id: str, transfer_id: str) -> TransferRead:
    t = session.get(Transfer, transfer_id)
    if t is None or t.customer_id != customer_id:
        raise TransferNotFound("no such transfer", transfer_id=transfer_id)
    return to_read(t)


def get_transfer_for_bank(session: Session, transfer_id: str) -> TransferRead:
    """Any transfer by id, for domains acting for the bank (the staff console, which audits the read);
    never for customer-facing lookups, which go through `get_transfer` and its owner check."""
    t = session.get(Transfer, transfer_id)
    if t is None:
        raise TransferNotFound("no such transfer", transfer_id=transfer_id)
    return to_read(t)


def existing_ids(session: Session, transfer_ids: Sequence[str]) -> set[str]:
    """Which of these transfer ids were committed (for reconciliation and the benchmarks)."""
    found: set[str] = set()
    ids = list(transfer_ids)
    for lo in range(0, len(ids), 500):
        found.update(session.scalars(select(Transfer.id).where(Transfer.id.in_(ids[lo : lo + 500]))))
    return found


def list_transfers(
    session: Session, *, customer_id: str, account_id: str | None = None, status: str | None = None,
    cursor: str | None = None, limit: int = 20,
) -> TransferPage:
    """The customer's transfers, newest first (ids are time-ordered, so the id is the keyset)."""
    limit = max(1, min(limit, 100))
    stmt = select(Transfer).where(Transfer.customer_id == customer_id)
    if account_id is not None:
        stmt = stmt.where(Transfer.from_account_id == account_id)
    if status is not None:
        stmt = stmt.where(Transfer.status == status)
    if cursor:
        key = decode_cursor(cursor)
        if len(key) != 1 or not isinstance(key[0], str):
            raise InvalidPaymentDetails("malformed cursor")
        stmt = stmt.where(Transfer.id < key[0])
    rows = session.scalars(stmt.order_by(Transfer.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return TransferPage(
        items=[to_read(t) for t in rows], next_cursor=encode_cursor([rows[-1].id]) if more and rows else None
    )


def count_since(session: Session, since: datetime) -> dict[str, int]:
    """Transfers created since `since`, by status (the staff dashboard's "today")."""
    stmt = (
        select(Transfer.status, func.count()).where(Transfer.created_at >= since).group_by(Transfer.status)
    )
    return {status: int(n) for status, n in session.execute(stmt)}


def count_pending_interbank(session: Session) -> int:
    """Interbank transfers whose money is held while the clearing rail settles or returns them."""
    stmt = select(func.count()).where(Transfer.status == "pending", Transfer.kind == "interbank")
    return int(session.scalar(stmt) or 0)


def count_held(session: Session) -> int:
    """Transfers whose money is held while an analyst reviews them."""
    return int(session.scalar(select(func.count()).where(Transfer.status == "held")) or 0)


def transfer_for_decision(session: Session, *, customer_id: str, decision_id: str) -> TransferRead | None:
    """The customer's transfer a risk decision decided, if any (risk events name the decision)."""
    t = session.scalar(
        select(Transfer).where(Transfer.risk_decision_id == decision_id, Transfer.customer_id == customer_id)
    )
    return to_read(t) if t is not None else None
