"""All SQL of the accounts domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from atrium.accounts.models import DepositAccount, InterestAccrual
from atrium.kit import clock

# The payment path's reads, built once (a call passes only its parameters).
_GET = select(DepositAccount).where(DepositAccount.id == bindparam("account_id"))
_GET_LOCKED = _GET.with_for_update()
_LOCK_MANY = (
    select(DepositAccount)
    .where(DepositAccount.id.in_(bindparam("ids", expanding=True)))
    .order_by(DepositAccount.id)
    .with_for_update()
)
_BY_NUMBER = select(DepositAccount).where(DepositAccount.number == bindparam("number"))


def get(session: Session, account_id: str, *, lock: bool = False) -> DepositAccount | None:
    return session.scalar(_GET_LOCKED if lock else _GET, {"account_id": account_id})


def lock_many(session: Session, account_ids: Sequence[str]) -> list[DepositAccount]:
    """Lock rows in ascending id order (the house rule), so two transactions cannot deadlock on them."""
    return list(session.scalars(_LOCK_MANY, {"ids": sorted(set(account_ids))}))


def get_by_number(session: Session, number: str) -> DepositAccount | None:
    return session.scalar(_BY_NUMBER, {"number": number})


def number_taken(session: Session, number: str) -> bool:
    return session.scalar(select(DepositAccount.id).where(DepositAccount.number == number)) is not None


def list_for_customer(session: Session, customer_id: str) -> list[DepositAccount]:
    stmt = (
        select(DepositAccount)
        .where(DepositAccount.customer_id == customer_id)
        .order_by(DepositAccount.opened_at, DepositAccount.id)
    )
    return list(session.scalars(stmt))


def count_open(session: Session, customer_id: str) -> int:
    stmt = select(func.count()).where(
        DepositAccount.customer_id == customer_id, DepositAccount.status == "open"
    )
    return int(session.scalar(stmt) or 0)


def count_by_status(session: Session) -> dict[str, int]:
    stmt = select(DepositAccount.status, func.count()).group_by(DepositAccount.status)
    return {status: int(n) for status, n in session.execute(stmt)}


def add(session: Session, account: DepositAccount) -> DepositAccount:
    session.add(account)
    session.flush()
    return account


def savings_account_ids(session: Session, *, include_closed: bool = False) -> list[str]:
    stmt = select(DepositAccount.id).where(DepositAccount.product == "savings").order_by(DepositAccount.id)
    if not include_closed:
        stmt = stmt.where(DepositAccount.status == "open")
    return list(session.scalars(stmt))


# --- interest accruals ---------------------------------------------------------------------------------


def last_accrual(session: Session, account_id: str) -> InterestAccrual | None:
    stmt = (
        select(InterestAccrual)
        .where(InterestAccrual.account_id == account_id)
        .order_by(InterestAccrual.accrual_date.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def add_accruals(session: Session, rows: Sequence[InterestAccrual]) -> None:
    session.add_all(rows)
    session.flush()


def unsettled(session: Session, account_id: str, *, period: str | None = None) -> list[InterestAccrual]:
    stmt = select(InterestAccrual).where(
        InterestAccrual.account_id == account_id, InterestAccrual.settled_at.is_(None)
    )
    if period is not None:
        stmt = stmt.where(InterestAccrual.period == period)
    return list(session.scalars(stmt.order_by(InterestAccrual.accrual_date)))


def unsettled_periods(session: Session, account_id: str) -> list[str]:
    stmt = (
        select(InterestAccrual.period)
        .where(InterestAccrual.account_id == account_id, InterestAccrual.settled_at.is_(None))
        .distinct()
        .order_by(InterestAccrual.period)
    )
    return list(session.scalars(stmt))


def settle(session: Session, account_id: str, days: Sequence[date], *, journal_id: str | None) -> None:
    session.execute(
        update(InterestAccrual)
        .where(
            InterestAccrual.account_id == account_id,
            InterestAccrual.accrual_date.in_(list(days)),
            InterestAccrual.settled_at.is_(None),
        )
        .values(posted_journal_id=journal_id, settled_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )


def accrued_between(session: Session, account_id: str, first: date, last: date) -> list[InterestAccrual]:
    stmt = (
        select(InterestAccrual)
        .where(
            InterestAccrual.account_id == account_id,
            InterestAccrual.accrual_date >= first,
            InterestAccrual.accrual_date <= last,
        )
        .order_by(InterestAccrual.accrual_date)
    )
    return list(session.scalars(stmt))
