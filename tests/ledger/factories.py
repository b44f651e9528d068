"""Small factories for ledger tests: accounts, funding, unique idempotency keys."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.ledger import service as ledger
from atrium.ledger.schemas import HoldRead, JournalRead, LedgerAccountRead

# PostgreSQL-only tests are skipped on the default SQLite run (the `db` fixture's is_sqlite agrees).
PG = os.environ.get("ATRIUM_TEST_DATABASE_URL", "").startswith("postgres")


def key(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def customer(session: Session, *, name: str = "customer", currency: str = "CNY",
             overdraft_minor: int = 0) -> LedgerAccountRead:
    """A customer deposit account: a liability with its floor enforced."""
    return ledger.open_account(session, name=name, type="liability", currency=currency,
                               overdraft_limit_minor=overdraft_minor)


def bank_cash(session: Session, currency: str = "CNY") -> LedgerAccountRead:
    return ledger.get_or_create_internal(
        session, code=f"bank:settlement:{currency}", name=f"Settlement {currency}", type="asset",
        currency=currency,
    )


def deposit(session: Session, account_id: str, amount_minor: int, *, currency: str = "CNY",
            kind: str = "deposit") -> JournalRead:
    """Money arriving from outside: the bank's settlement asset goes up, the customer's liability too."""
    return ledger.post_transfer(
        session, idempotency_key=key("dep"), debit_account_id=bank_cash(session, currency).id,
        credit_account_id=account_id, amount_minor=amount_minor, currency=currency, kind=kind,
    )


def hold(session: Session, debit_id: str, credit_id: str, amount_minor: int, *, ttl_s: int = 3600,
         currency: str = "CNY") -> HoldRead:
    return ledger.place_hold(
        session, idempotency_key=key("hold"), debit_account_id=debit_id, credit_account_id=credit_id,
        amount_minor=amount_minor, currency=currency, expires_at=clock.now() + timedelta(seconds=ttl_s),
        kind="card",
    )
