"""Accounts and transfers for staff: one account with a page of its ledger entries, one transfer with its
status history — masked (numbers, counterparties' names), and recorded before they are read.

An entry's description is not shown: for transfers it is the payer's memo, the customer's own words. The
counterparty is named (masked) from the transfer: its payee for money out, the payer's account holder for
money in between Atrium customers.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.accounts import service as accounts
from atrium.accounts.errors import AccountNotFound
from atrium.accounts.schemas import DepositAccountRead
from atrium.identity import service as identity
from atrium.ledger import service as ledger
from atrium.ledger.schemas import EntryRead
from atrium.payments import service as payments
from atrium.payments.errors import TransferNotFound
from atrium.payments.schemas import TransferRead
from atrium.staff.domain import clean_reason, mask_name
from atrium.staff.schemas import AccountDetail, AccountView, EntryLine, StatusStep, TransferView
from atrium.staff.service._common import existing_customer, summary
from atrium.staff.service.audit import record_access
from atrium.staff.service.customers import transfer_line

ENTRIES_PAGE = 25
MAX_ENTRIES_PAGE = 100


def _detail(a: DepositAccountRead) -> AccountDetail:
    return AccountDetail(
        id=a.id, product=a.product, currency=a.currency, masked_number=a.masked_number, status=a.status,
        booked_minor=a.booked_minor, available_minor=a.available_minor, interest_rate_bp=a.interest_rate_bp,
        opened_at=a.opened_at, closed_at=a.closed_at,
    )


class _Counterparties:
    """Masked names and numbers of the other side of entries, each looked up once per page."""

    def __init__(self, session: Session, holder_id: str, holder_name: str, own: dict[str, str]) -> None:
        self.session, self.holder_id, self.holder_name, self.own = session, holder_id, holder_name, own
        self._accounts: dict[str, tuple[str | None, str | None]] = {}

    def _account(self, account_id: str) -> tuple[str | None, str | None]:
        if account_id in self.own:
            return self.holder_name, self.own[account_id]
        if account_id not in self._accounts:
            try:
                other = accounts.get_by_id(self.session, account_id)
            except AccountNotFound:
                self._accounts[account_id] = (None, None)
            else:
                person = identity.get_customer(self.session, other.customer_id)
                name = mask_name(person.display_name) if person else None
                self._accounts[account_id] = (name, other.masked_number)
        return self._accounts[account_id]

    def of(self, e: EntryRead, account_id: str) -> tuple[str | None, str | None]:
        meta = e.metadata
        transfer_id = meta.get("transfer_id")
        if e.side == "credit":  # money in: the payer's account, if it is an Atrium one
            payer = meta.get("from_account_id")
            return self._account(payer) if isinstance(payer, str) and payer != account_id else (None, None)
        if not isinstance(transfer_id, str):
            return None, None
        try:
            t = payments.get_transfer(self.session, customer_id=self.holder_id, transfer_id=transfer_id)
        except TransferNotFound:
            return None, None
        if t.to.account_id:  # one of the holder's own accounts
            return self._account(t.to.account_id)
        return (mask_name(t.to.name) if t.to.name else None), t.to.masked_account_number


def view_account(
    session: Session,
    *,
    staff_id: str,
    staff_role: str | None,
    account_id: str,
    reason: str | None = None,
    cursor: str | None = None,
    limit: int = ENTRIES_PAGE,
) -> AccountView:
    """A deposit account (masked number, balances) and a page of its entries, newest first; recorded as
    `account.view` of its holder (an unknown account records nothing)."""
    if not 1 <= limit <= MAX_ENTRIES_PAGE:
        limit = ENTRIES_PAGE
    clean = clean_reason(reason)
    account = accounts.get_by_id(session, account_id)
    holder = existing_customer(session, account.customer_id)
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="account.view", customer_id=holder.id,
        screen="account", reason=clean, detail=f"account={account.id}" + (" page>1" if cursor else ""),
    )
    page = ledger.list_entries(session, account.ledger_account_id, cursor=cursor, limit=limit)
    own = {a.id: a.masked_number for a in accounts.list_for_customer(session, holder.id)}
    who = summary(holder)
    sides = _Counterparties(session, holder.id, who.masked_name, own)
    entries = []
    for e in page.items:
        name, number = sides.of(e, account.id)
        transfer_id = e.metadata.get("transfer_id")
        entries.append(EntryLine(
            posted_at=e.posted_at,
            direction="in" if e.side == "credit" else "out",  # a deposit is the bank's liability
            amount_minor=e.amount_minor, currency=e.currency, kind=e.kind,
            balance_after_minor=e.balance_after_minor,
            transfer_id=transfer_id if isinstance(transfer_id, str) else None,
            counterparty_masked_name=name, counterparty_masked_number=number,
            reversal=e.reverses_id is not None,
        ))
    return AccountView(account=_detail(account), holder=who, entries=entries, next_cursor=page.next_cursor,
                       access=access)


def _history(t: TransferRead) -> list[StatusStep]:
    """The transfer's statuses in order. Transfers keep no separate status log; the history is read from
    what the transfer records: own and internal transfers are born completed (their posting journal is the
    evidence); interbank ones are born pending (money held) and end settled, returned or failed."""
    if t.kind != "interbank":
        return [StatusStep(status=t.status, at=t.created_at, evidence=t.journal_id)]
    steps = [StatusStep(status="pending", at=t.created_at, evidence=t.hold_id)]
    if t.status != "pending":
        steps.append(StatusStep(status=t.status, at=t.settled_at or t.created_at, code=t.failure_code))
    return steps


def view_transfer(
    session: Session, *, staff_id: str, staff_role: str | None, transfer_id: str, reason: str | None = None
) -> TransferView:
    """One transfer (masked counterparty) and its status history; recorded as `transfer.view` of the payer
    (an unknown transfer records nothing)."""
    clean = clean_reason(reason)
    t = payments.get_transfer_for_bank(session, transfer_id)
    source = accounts.get_by_id(session, t.from_account_id)
    owner = existing_customer(session, source.customer_id)
    access = record_access(
        session, staff_id=staff_id, staff_role=staff_role, action="transfer.view", customer_id=owner.id,
        screen="transfer", reason=clean, detail=f"transfer={t.id}",
    )
    numbers = {a.id: a.masked_number for a in accounts.list_for_customer(session, owner.id)}
    return TransferView(
        transfer=transfer_line(t, numbers), owner=summary(owner), failure_reason=t.failure_reason,
        journal_id=t.journal_id, hold_id=t.hold_id, history=_history(t), access=access,
    )
