"""Where a transfer goes: turn what the customer asked for (own account id, Atrium account number, payee
id, external bank account) into one `ResolvedDestination`, checking existence, status and currency.

Other payment kinds (QR pay to a merchant, a standing order's payee) build a `ResolvedDestination` of
their own and hand it to `transfers.execute`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountClosed, AccountNotFound
from atrium.accounts.schemas import DepositAccountRead
from atrium.payments import domain
from atrium.payments.errors import (
    CurrencyMismatch,
    CurrencyNotCleared,
    SameAccount,
    UnknownDestinationAccount,
)
from atrium.payments.rail import directory
from atrium.payments.schemas import (
    AtriumDestination,
    Destination,
    ExternalDestination,
    OwnDestination,
    PayeeDestination,
)
from atrium.payments.service.payees import check_external, live_payee


@dataclass(frozen=True, slots=True)
class ResolvedDestination:
    """A checked destination. `kind` decides the route: own/internal post on the ledger at once (to
    `ledger_account_id`); interbank holds the money and goes to the rail (bank code + number + name)."""

    kind: str  # own | internal | interbank (| qr … for later payment kinds)
    to_type: str  # what the customer named: own | atrium | payee | external (| merchant …)
    display: str
    account_id: str | None = None
    ledger_account_id: str | None = None
    payee_id: str | None = None
    bank_code: str | None = None
    account_number: str | None = None
    name: str | None = None


def check_source(account: DepositAccountRead, currency: str) -> None:
    if account.status != "open":
        raise AccountClosed("the account you pay from is closed", account_id=account.id)
    if account.currency != currency:
        raise CurrencyMismatch(
            f"the account you pay from holds {account.currency}, not {currency}",
            account_currency=account.currency, currency=currency,
        )


def _internal(
    account: DepositAccountRead, *, customer_id: str, source: DepositAccountRead, currency: str, to_type: str,
    payee_id: str | None = None, name: str | None = None, display: str | None = None,
) -> ResolvedDestination:
    if account.id == source.id:
        raise SameAccount("you cannot transfer from an account to itself")
    if account.status != "open":
        raise AccountClosed("the account you pay to is closed")
    if account.currency != currency:
        raise CurrencyMismatch(
            f"the account you pay to holds {account.currency}, not {currency}; there is no currency exchange",
            currency=currency,
        )
    own = account.customer_id == customer_id
    return ResolvedDestination(
        kind="own" if own else "internal",
        to_type=to_type,
        display=display or (own and account.nickname) or f"Atrium {account.masked_number}",
        # Another customer's account id is not theirs to see; their number (which the payer typed) is.
        account_id=account.id,
        ledger_account_id=account.ledger_account_id,
        payee_id=payee_id,
        bank_code=domain.ATRIUM_BANK_CODE,
        account_number=account.number,
        name=name,
    )


def _by_number(session: Session, number: str) -> tuple[DepositAccountRead, str | None]:
    """The account with that number, and its holder's masked name ("*三") for the payer to confirm."""
    try:
        return accounts.get_by_number_for_bank(session, number)
    except AccountNotFound:
        raise UnknownDestinationAccount("no Atrium account has that number") from None


def _external(
    bank_code: str | None, number: str, name: str, *, currency: str, to_type: str,
    payee_id: str | None = None, display: str | None = None,
) -> ResolvedDestination:
    code, number, name = check_external(bank_code, number, name)
    bank = directory.find(code)
    assert bank is not None  # check_external refuses unknown banks
    if currency not in bank.currencies:
        raise CurrencyNotCleared(
            f"{bank.name} accepts {', '.join(bank.currencies)} through the clearing rail, not {currency}",
            bank_code=code, currencies=list(bank.currencies),
        )
    return ResolvedDestination(
        kind="interbank", to_type=to_type,
        display=display or f"{bank.name} {domain.mask_account_number(number)}",
        payee_id=payee_id, bank_code=code, account_number=number, name=name,
    )


def resolve(
    session: Session, *, customer_id: str, to: Destination, source: DepositAccountRead, currency: str
) -> ResolvedDestination:
    if isinstance(to, OwnDestination):
        # get_owned answers 404 for an account that is someone else's, like for one that does not exist.
        account = accounts.get_owned(session, customer_id=customer_id, account_id=to.account_id)
        return _internal(account, customer_id=customer_id, source=source, currency=currency, to_type="own")
    if isinstance(to, AtriumDestination):
        account, masked_name = _by_number(session, to.account_number)
        return _internal(account, customer_id=customer_id, source=source, currency=currency, to_type="atrium",
                         name=None if account.customer_id == customer_id else masked_name)
    if isinstance(to, PayeeDestination):
        payee = live_payee(session, customer_id=customer_id, payee_id=to.payee_id)
        if payee.kind == "atrium":
            account, _ = _by_number(session, payee.account_number)
            return _internal(
                account, customer_id=customer_id, source=source, currency=currency, to_type="payee",
                payee_id=payee.id, name=payee.account_name, display=payee.nickname,
            )
        return _external(payee.bank_code, payee.account_number, payee.account_name, currency=currency,
                         to_type="payee", payee_id=payee.id, display=payee.nickname)
    if isinstance(to, ExternalDestination):
        return _external(
            to.bank_code, to.account_number, to.account_name, currency=currency, to_type="external"
        )
    raise TypeError(f"unknown destination {type(to).__name__}")
