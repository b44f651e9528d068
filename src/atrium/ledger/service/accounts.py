"""Opening and reading ledger accounts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.ledger import repository as repo
from atrium.ledger.domain import check_account_type, check_ledger_currency
from atrium.ledger.errors import AccountCodeTaken, AccountNotFound, InvalidLedgerRequest
from atrium.ledger.schemas import LedgerAccountRead
from atrium.ledger.service._common import account_read


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not (1 <= len(name) <= 120):
        raise InvalidLedgerRequest("a ledger account name is 1 to 120 characters")
    return name


def _check_code(code: object) -> str:
    if not isinstance(code, str) or not (1 <= len(code) <= 80) or not code.isprintable():
        raise InvalidLedgerRequest("a ledger account code is 1 to 80 printable characters")
    return code


def open_account(
    session: Session,
    *,
    name: str,
    type: str,  # noqa: A002 - the contract's name
    currency: str,
    enforce_floor: bool = True,
    overdraft_limit_minor: int = 0,
    code: str | None = None,
) -> LedgerAccountRead:
    """Open a ledger account. A customer deposit account is a `liability` with its floor enforced."""
    values = {
        "id": new_id("lac"),
        "code": None if code is None else _check_code(code),
        "name": _check_name(name),
        "type": check_account_type(type).value,
        "currency": check_ledger_currency(currency),
        "enforce_floor": bool(enforce_floor),
        "overdraft_limit_minor": _check_overdraft(overdraft_limit_minor),
        "debits_posted": 0, "credits_posted": 0, "debits_pending": 0, "credits_pending": 0,
        "created_at": clock.now(),
    }
    if not repo.insert_account(session, values, ignore_code_conflict=code is not None):
        raise AccountCodeTaken(f"a ledger account with code {code!r} exists", code=code)
    return get_account(session, values["id"])


def _check_overdraft(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_AMOUNT_MINOR:
        raise InvalidLedgerRequest(f"overdraft_limit_minor must be an integer from 0 to {MAX_AMOUNT_MINOR}")
    return limit


def get_or_create_internal(
    session: Session, *, code: str, name: str, type: str, currency: str  # noqa: A002
) -> LedgerAccountRead:
    """The bank's own account for `code` (e.g. `bank:settlement:CNY`), created on first use; no floor.

    Safe under concurrency: two first uses race on the unique code and both get the one account.
    """
    code = _check_code(code)
    kind = check_account_type(type).value
    currency = check_ledger_currency(currency)
    row = repo.get_account_by_code(session, code)
    if row is None:
        values = {
            "id": new_id("lac"), "code": code, "name": _check_name(name), "type": kind,
            "currency": currency, "enforce_floor": False, "overdraft_limit_minor": 0,
            "debits_posted": 0, "credits_posted": 0, "debits_pending": 0, "credits_pending": 0,
            "created_at": clock.now(),
        }
        repo.insert_account(session, values, ignore_code_conflict=True)
        row = repo.get_account_by_code(session, code)
        assert row is not None  # inserted by us or by the concurrent winner of the race
    if row.type != kind or row.currency != currency:
        raise AccountCodeTaken(
            f"ledger account {code!r} exists as {row.type} in {row.currency}, not {kind} in {currency}",
            code=code,
        )
    return account_read(row)


def get_account(session: Session, account_id: str) -> LedgerAccountRead:
    row = repo.get_account(session, account_id)
    if row is None:
        raise AccountNotFound(f"ledger account {account_id} does not exist", account_id=account_id)
    return account_read(row)


def get_account_by_code(session: Session, code: str) -> LedgerAccountRead:
    row = repo.get_account_by_code(session, code)
    if row is None:
        raise AccountNotFound(f"no ledger account has code {code!r}", code=code)
    return account_read(row)
