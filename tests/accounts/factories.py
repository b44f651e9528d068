"""Small factories for accounts tests: customers, accounts, and money moved through the real ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from atrium.accounts import service
from atrium.accounts.schemas import DepositAccountRead
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.ledger import service as ledger


def customer(session: Session, username: str | None = None, display_name: str = "张三", locale: str = "zh"):  # type: ignore[no-untyped-def]
    username = username or f"u{new_id('x')[-10:].lower()}"
    return identity.create_customer(
        session, username=username, password="pw-12345678", display_name=display_name, locale=locale
    )


def account(
    session: Session,
    customer_id: str,
    product: str = "current",
    currency: str = "CNY",
    nickname: str | None = None,
) -> DepositAccountRead:
    return service.open_account(
        session, customer_id=customer_id, product=product, currency=currency, nickname=nickname
    )


def settlement(session: Session, currency: str = "CNY") -> str:
    return ledger.get_or_create_internal(
        session,
        code=f"bank:settlement:{currency}",
        name=f"Settlement {currency}",
        type="asset",
        currency=currency,
    ).id


def deposit(
    session: Session,
    acct: DepositAccountRead,
    amount_minor: int,
    *,
    description: str = "Cash deposit",
    kind: str = "deposit",
    at: datetime | None = None,
) -> str:
    """Money in from the bank's settlement account (a cash deposit), optionally at a given time."""
    return _move(
        session,
        settlement(session, acct.currency),
        acct.ledger_account_id,
        amount_minor,
        acct.currency,
        kind,
        description,
        at,
    )


def withdraw(
    session: Session,
    acct: DepositAccountRead,
    amount_minor: int,
    *,
    description: str = "Cash withdrawal",
    kind: str = "withdrawal",
    at: datetime | None = None,
) -> str:
    return _move(
        session,
        acct.ledger_account_id,
        settlement(session, acct.currency),
        amount_minor,
        acct.currency,
        kind,
        description,
        at,
    )


def _move(
    session: Session,
    debit: str,
    credit: str,
    amount: int,
    currency: str,
    kind: str,
    description: str,
    at: datetime | None,
) -> str:
    previous = clock.use(clock.FrozenClock(at)) if at is not None else None
    try:
        j = ledger.post_transfer(
            session,
            idempotency_key=new_id("test"),
            debit_account_id=debit,
            credit_account_id=credit,
            amount_minor=amount,
            currency=currency,
            kind=kind,
            description=description,
        )
    finally:
        if previous is not None:
            clock.use(previous)
    return j.id
