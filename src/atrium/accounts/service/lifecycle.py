"""Open, find, rename and close deposit accounts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from atrium.accounts import domain
from atrium.accounts import repository as repo
from atrium.accounts.errors import (
    AccountClosed,
    AccountNotEmpty,
    AccountNotFound,
    InvalidAccountNumber,
    InvalidAccountRequest,
    TooManyAccounts,
)
from atrium.accounts.models import DepositAccount
from atrium.accounts.schemas import AccountDirectoryEntry, DepositAccountRead
from atrium.config import get_settings
from atrium.events import outbox
from atrium.events.catalogue import AccountClosed as AccountClosedEvent
from atrium.events.catalogue import AccountOpened
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.ledger import service as ledger


def interest_rate_bp(product: str) -> int:
    return domain.annual_rate_bp(product, get_settings().ledger.savings_rate_bp)


def to_read(session: Session, account: DepositAccount) -> DepositAccountRead:
    """The account with its balances, read from the ledger (the one source of truth for money)."""
    balance = ledger.get_account(session, account.ledger_account_id)
    return DepositAccountRead(
        id=account.id,
        customer_id=account.customer_id,
        product=account.product,  # type: ignore[arg-type]
        currency=account.currency,
        number=account.number,
        masked_number=domain.mask_number(account.number),
        nickname=account.nickname,
        status=account.status,  # type: ignore[arg-type]
        ledger_account_id=account.ledger_account_id,
        booked_minor=balance.booked_minor,
        available_minor=balance.available_minor,
        opened_at=account.opened_at,
        closed_at=account.closed_at,
        interest_rate_bp=interest_rate_bp(account.product),
    )


def _new_number(session: Session) -> str:
    # 12 random digits give 10^12 numbers per BIN; a collision is rare, and the unique index backs this up.
    for _ in range(10):
        number = domain.new_account_number(lambda n: "".join(secrets.choice("0123456789") for _ in range(n)))
        if not repo.number_taken(session, number):
            return number
    raise RuntimeError("could not draw a free account number in 10 tries")


def open_account(
    session: Session, *, customer_id: str, product: str, currency: str, nickname: str | None = None
) -> DepositAccountRead:
    """Open a current or savings account: a floor-enforced ledger liability account (a deposit can never
    go below zero) wrapped with a 19-digit number. Emits AccountOpened."""
    try:
        domain.check_product_currency(product, currency)
        nickname = domain.clean_nickname(nickname)
    except domain.RuleError as exc:
        raise InvalidAccountRequest(str(exc), product=product, currency=currency) from None
    customer = identity.get_customer(session, customer_id)
    if customer is None or customer.status != "active":
        raise InvalidAccountRequest("accounts can only be opened for an active customer")
    if repo.count_open(session, customer_id) >= domain.MAX_OPEN_ACCOUNTS_PER_CUSTOMER:
        raise TooManyAccounts(
            f"a customer may hold at most {domain.MAX_OPEN_ACCOUNTS_PER_CUSTOMER} open accounts",
            limit=domain.MAX_OPEN_ACCOUNTS_PER_CUSTOMER,
        )
    account_id = new_id("acc")
    ledger_account = ledger.open_account(
        session,
        name=f"deposit {product} {account_id}",
        type="liability",
        currency=currency,
        enforce_floor=True,
        overdraft_limit_minor=0,
    )
    account = repo.add(
        session,
        DepositAccount(
            id=account_id,
            customer_id=customer_id,
            product=product,
            currency=currency,
            number=_new_number(session),
            nickname=nickname,
            status="open",
            ledger_account_id=ledger_account.id,
            opened_at=clock.now(),
        ),
    )
    outbox.record(
        session,
        AccountOpened(
            account_id=account.id,
            customer_id=customer_id,
            product=product,
            currency=currency,
        ),
    )
    return to_read(session, account)


def _owned(session: Session, customer_id: str, account_id: str, *, lock: bool = False) -> DepositAccount:
    account = repo.get(session, account_id, lock=lock)
    # The same answer for "does not exist" and "is not yours", so ids cannot be probed.
    if account is None or account.customer_id != customer_id:
        raise AccountNotFound("no such account", account_id=account_id)
    return account


def get_owned(session: Session, *, customer_id: str, account_id: str) -> DepositAccountRead:
    return to_read(session, _owned(session, customer_id, account_id))


def get_by_id(session: Session, account_id: str) -> DepositAccountRead:
    """Any account by id, for other domains acting for the bank (not for customer-facing lookups)."""
    account = repo.get(session, account_id)
    if account is None:
        raise AccountNotFound("no such account", account_id=account_id)
    return to_read(session, account)


def _by_number(session: Session, number: str) -> tuple[DepositAccount, str | None]:
    """The account with that number and its holder's masked name."""
    try:
        number = domain.check_number(number)
    except domain.RuleError as exc:
        raise InvalidAccountNumber(str(exc)) from None
    account = repo.get_by_number(session, number)
    if account is None:
        raise AccountNotFound("no Atrium account has that number")
    owner = identity.get_customer(session, account.customer_id)
    return account, domain.mask_name(owner.display_name) if owner else None


def get_by_number(session: Session, number: str) -> AccountDirectoryEntry:
    """Look up a payee's account by number: only what a payer may know (no balance, no full name)."""
    account, masked_owner_name = _by_number(session, number)
    return AccountDirectoryEntry(
        id=account.id,
        currency=account.currency,
        status=account.status,  # type: ignore[arg-type]
        masked_number=domain.mask_number(account.number),
        masked_owner_name=masked_owner_name,
    )


def get_by_number_for_bank(session: Session, number: str) -> tuple[DepositAccountRead, str | None]:
    """`get_by_number` and `get_by_id` in one lookup, for other domains acting for the bank (payments
    resolving a payee's number): the whole account, and its holder's masked name for the payer to see."""
    account, masked_owner_name = _by_number(session, number)
    return to_read(session, account), masked_owner_name


def list_for_customer(session: Session, customer_id: str) -> list[DepositAccountRead]:
    """The customer's accounts, oldest first, closed ones included (their statements stay readable)."""
    return [to_read(session, a) for a in repo.list_for_customer(session, customer_id)]


def rename_account(
    session: Session, *, customer_id: str, account_id: str, nickname: str | None
) -> DepositAccountRead:
    account = _owned(session, customer_id, account_id, lock=True)
    try:
        account.nickname = domain.clean_nickname(nickname)
    except domain.RuleError as exc:
        raise InvalidAccountRequest(str(exc)) from None
    session.flush()
    return to_read(session, account)


def _lock_open_rows(session: Session, account_ids: Sequence[str]) -> dict[str, DepositAccount]:
    rows = {a.id: a for a in repo.lock_many(session, account_ids)}
    for account_id in account_ids:
        account = rows.get(account_id)
        if account is None:
            raise AccountNotFound("no such account", account_id=account_id)
        if account.status != "open":
            raise AccountClosed(
                f"account {domain.mask_number(account.number)} is closed", account_id=account_id
            )
    return rows


def lock_open(session: Session, account_ids: Sequence[str]) -> dict[str, DepositAccountRead]:
    """Lock deposit accounts (ascending id) that are about to send or receive money and check they are open.

    A payment calls this before posting, so that it and a concurrent `close_account` are serialised on the
    account row: money can never land in an account that has just been closed.
    """
    rows = _lock_open_rows(session, account_ids)
    return {account_id: to_read(session, rows[account_id]) for account_id in account_ids}


def lock_open_ids(session: Session, account_ids: Sequence[str]) -> None:
    """`lock_open` for a caller that needs only the lock and the check, not the accounts' balances (the
    payment path: it saves reading each account's ledger balance again)."""
    _lock_open_rows(session, account_ids)


def close_account(session: Session, *, customer_id: str, account_id: str) -> DepositAccountRead:
    """Close an account that holds nothing: booked zero, no pending holds, no unpaid interest.

    Closing a closed account returns it unchanged (a retried request must not fail). Emits AccountClosed.
    """
    from atrium.accounts.service.interest import unpaid_interest_minor

    account = _owned(session, customer_id, account_id, lock=True)
    if account.status == "closed":
        return to_read(session, account)
    balance = ledger.get_account(session, account.ledger_account_id)
    pending = balance.pending_debits_minor + balance.pending_credits_minor
    if balance.booked_minor != 0 or pending != 0:
        shown = domain.format_amount(balance.booked_minor, account.currency)
        raise AccountNotEmpty(
            f"the account's balance is {shown}"
            + (f" with {domain.format_amount(pending, account.currency)} pending" if pending else "")
            + "; move the money out before closing it",
            booked_minor=balance.booked_minor,
            pending_minor=pending,
            currency=account.currency,
        )
    unpaid = unpaid_interest_minor(session, account)
    if unpaid:
        raise AccountNotEmpty(
            f"the account has {domain.format_amount(unpaid, account.currency)} of accrued interest"
            " not yet paid; have it paid in (POST …/interest/pay), move it out, then close",
            booked_minor=0,
            accrued_interest_minor=unpaid,
            currency=account.currency,
        )
    account.status = "closed"
    account.closed_at = clock.now()
    session.flush()
    outbox.record(session, AccountClosedEvent(account_id=account.id, customer_id=customer_id))
    return to_read(session, account)


def count_by_status(session: Session) -> dict[str, int]:
    """How many deposit accounts are open and closed, bank-wide (the staff dashboard)."""
    return repo.count_by_status(session)
