"""Small factories for the payments tests: customers, funded accounts, a quiet rail, a money snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atrium.accounts import domain as account_domain
from atrium.accounts import service as accounts
from atrium.accounts.schemas import DepositAccountRead
from atrium.config import RailSettings
from atrium.db.session import Database
from atrium.events.models import OutboxEvent
from atrium.identity import service as identity
from atrium.ledger import service as ledger
from atrium.ledger.errors import AccountNotFound as LedgerAccountNotFound
from atrium.payments.models import Payee, Transfer
from atrium.payments.rail.simulated import SimulatedRail
from tests.auth_support import phone_for

_seq = count(1)

# Noon in Shanghai (04:00 UTC): far from the day boundary and the night-time window.
NOON = datetime(2024, 5, 15, 4, 0, tzinfo=UTC)
PASSWORD = "a long test password"


def customer(session: Session, username: str | None = None, display_name: str = "Test Customer") -> str:
    """A customer with a phone on file (`phone_for(username)`), so they can sign in with a second factor."""
    username = username or f"pay-cus-{next(_seq)}"
    return identity.create_customer(
        session, username=username, password=PASSWORD, display_name=display_name, phone=phone_for(username)
    ).id


def account(
    session: Session, customer_id: str, *, currency: str = "CNY", product: str = "current", funds: int = 0
) -> DepositAccountRead:
    acc = accounts.open_account(session, customer_id=customer_id, product=product, currency=currency)
    if funds:
        fund(session, acc, funds)
    return accounts.get_by_id(session, acc.id)


def fund(session: Session, acc: DepositAccountRead, amount_minor: int) -> None:
    """Cash in from outside the bank: debit the settlement asset, credit the deposit."""
    settlement = ledger.get_or_create_internal(
        session,
        code=f"bank:settlement:{acc.currency}",
        name=f"Settlement account {acc.currency}",
        type="asset",
        currency=acc.currency,
    )
    ledger.post_transfer(
        session,
        idempotency_key=f"test-fund:{acc.id}:{next(_seq)}",
        debit_account_id=settlement.id,
        credit_account_id=acc.ledger_account_id,
        amount_minor=amount_minor,
        currency=acc.currency,
        kind="test.deposit",
    )


def unused_number(number: str) -> str:
    """A well-formed Atrium account number (right check digit) that no account has."""
    payload = number[:-1]
    other = payload[:-1] + str((int(payload[-1]) + 1) % 10)
    return other + account_domain.luhn_check_digit(other)


def typo(number: str) -> str:
    """The same number with its check digit wrong."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def quiet_rail(db: Database, **overrides: Any) -> SimulatedRail:
    """A rail that never times out, returns or duplicates unless told to, and settles at once."""
    settings = dict(timeout_rate=0.0, return_rate=0.0, duplicate_rate=0.0, settle_delay_s=0.0, seed=7)
    return SimulatedRail(db, RailSettings(**(settings | overrides)))


def balance(session: Session, account_id: str) -> tuple[int, int]:
    """(booked, available) of a deposit account."""
    a = accounts.get_by_id(session, account_id)
    return a.booked_minor, a.available_minor


def internal_balance(session: Session, code: str) -> int:
    try:
        return ledger.get_account_by_code(session, code).booked_minor
    except LedgerAccountNotFound:
        return 0


@dataclass(frozen=True)
class Snapshot:
    balances: dict[str, tuple[int, int]]
    transfers: int
    payees: int
    outbox: int


def snapshot(db: Database, account_ids: list[str]) -> Snapshot:
    with db.session() as s:
        return Snapshot(
            balances={a: balance(s, a) for a in account_ids},
            transfers=s.scalar(select(func.count()).select_from(Transfer)) or 0,
            payees=s.scalar(select(func.count()).select_from(Payee)) or 0,
            outbox=s.scalar(select(func.count()).select_from(OutboxEvent)) or 0,
        )


def ledger_ok(db: Database) -> bool:
    with db.session() as s:
        report = ledger.check(s)
        assert report.ok, report.discrepancies
        return report.ok


def events(db: Database, type_: str) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.seq)).all()
        return [dict(r.payload) for r in rows]
