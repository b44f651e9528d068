"""Reading the ledger: journals, statement entries, the trial balance and the consistency check."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.ledger import repository as repo
from atrium.ledger.domain import Side, TrialBalance
from atrium.ledger.errors import AccountNotFound, InvalidLedgerRequest
from atrium.ledger.schemas import (
    Discrepancy,
    EntryPage,
    EntryRead,
    JournalRead,
    LedgerCheckReport,
    TrialBalanceLine,
)
from atrium.ledger.service._common import balance_of, check_aware, load_journal

MAX_PAGE = 200


def get_journal(session: Session, journal_id: str) -> JournalRead:
    return load_journal(session, journal_id)


def list_entries(
    session: Session,
    account_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Iterable[str] | None = None,
    min_amount: int | None = None,
    max_amount: int | None = None,
    direction: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> EntryPage:
    """One account's legs, newest first. `since` is inclusive, `until` exclusive; `direction` is
    'debit' or 'credit'; `cursor` is the page's `next_cursor` from the previous call."""
    if repo.get_account(session, account_id) is None:
        raise AccountNotFound(f"ledger account {account_id} does not exist", account_id=account_id)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidLedgerRequest(f"limit must be between 1 and {MAX_PAGE}")
    if direction is not None and direction not in (Side.DEBIT, Side.CREDIT):
        raise InvalidLedgerRequest("direction is 'debit' or 'credit'")
    for name, at in (("since", since), ("until", until)):
        if at is not None:
            check_aware(at, name)
    before_id = None
    if cursor:
        key = decode_cursor(cursor)
        if len(key) != 1 or isinstance(key[0], bool) or not isinstance(key[0], int):
            raise ValidationFailed("malformed cursor")
        before_id = key[0]
    stmt = repo.entries_query(
        account_id, since=since, until=until, kinds=list(kinds) if kinds else None, min_amount=min_amount,
        max_amount=max_amount, side=direction, before_id=before_id, limit=limit + 1,
    )
    rows = session.execute(stmt).all()
    items = [
        EntryRead(
            id=leg.id, journal_id=leg.journal_id, posted_at=leg.posted_at, side=leg.side,
            amount_minor=leg.amount_minor, currency=leg.currency, kind=kind, description=description,
            metadata=meta or {}, balance_after_minor=leg.balance_after_minor, reverses_id=reverses_id,
        )
        for leg, kind, description, meta, reverses_id in rows[:limit]
    ]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return EntryPage(items=items, next_cursor=next_cursor)


def _one_snapshot(session: Session) -> None:
    """Read every aggregate from one snapshot, so a check beside live transfers never sees half of one.

    SQLite's read transaction already is a snapshot (WAL). On PostgreSQL, READ COMMITTED takes a new
    snapshot per statement; a fresh session is switched to REPEATABLE READ here (the CLI and the staff
    endpoint pass fresh sessions). A session already in a transaction keeps what it has.
    """
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def trial_balance(session: Session) -> dict[str, TrialBalanceLine]:
    """Sum of all posted debits and credits per currency, from the legs themselves."""
    _one_snapshot(session)
    tb = TrialBalance()
    for currency, side, total in repo.leg_sums_by_currency(session):
        tb.add(currency, side, total)
    accounts: dict[str, int] = {}
    for acc in repo.all_accounts(session):
        accounts[acc.currency] = accounts.get(acc.currency, 0) + 1
    return {
        c: TrialBalanceLine(
            currency=c, debits_minor=tb.debits.get(c, 0), credits_minor=tb.credits.get(c, 0),
            difference_minor=tb.difference(c), balanced=tb.difference(c) == 0, accounts=accounts.get(c, 0),
        )
        for c in sorted(set(tb.currencies()) | set(accounts))
    }


def check(session: Session) -> LedgerCheckReport:
    """Every invariant of the ledger, recomputed from the rows. `ok` is False if anything disagrees."""
    found: list[Discrepancy] = []
    _one_snapshot(session)
    tb = trial_balance(session)
    for line in tb.values():
        if not line.balanced:
            found.append(Discrepancy(
                check="trial-balance", subject_id=line.currency, expected=0, actual=line.difference_minor,
                detail=f"{line.currency} debits {line.debits_minor} ≠ credits {line.credits_minor}",
            ))
    for journal_id, currency, net in repo.unbalanced_journals(session):
        found.append(Discrepancy(
            check="journal-balance", subject_id=journal_id, expected=0, actual=net,
            detail=f"journal {journal_id} is off by {net} {currency} (debits − credits)",
        ))
    for journal_id in repo.journals_without_legs(session):
        found.append(Discrepancy(check="journal-legs", subject_id=journal_id, detail="journal has no legs"))
    for leg_id, account_id, leg_currency, account_currency in repo.legs_with_wrong_currency(session):
        found.append(Discrepancy(
            check="leg-currency", subject_id=str(leg_id), expected=account_currency, actual=leg_currency,
            detail=f"leg {leg_id} on {account_id} is in {leg_currency}, the account in {account_currency}",
        ))
    leg_sums = repo.leg_sums_by_account(session)
    pending_debits, pending_credits = repo.pending_hold_sums(session)
    last_snapshot = repo.last_balance_after(session)
    accounts = repo.all_accounts(session)
    for acc in accounts:
        expected = {
            "debits_posted": leg_sums.get((acc.id, "debit"), 0),
            "credits_posted": leg_sums.get((acc.id, "credit"), 0),
            "debits_pending": pending_debits.get(acc.id, 0),
            "credits_pending": pending_credits.get(acc.id, 0),
        }
        for name, want in expected.items():
            have = getattr(acc, name)
            if have != want:
                found.append(Discrepancy(
                    check="posted-totals" if name.endswith("posted") else "pending-totals",
                    subject_id=acc.id, expected=want, actual=have,
                    detail=f"{acc.id} {name} is {have}, its {'legs' if 'posted' in name else 'holds'}"
                           f" sum to {want}",
                ))
        bal = balance_of(acc)
        if acc.id in last_snapshot and last_snapshot[acc.id] != bal.booked:
            found.append(Discrepancy(
                check="balance-snapshot", subject_id=acc.id, expected=bal.booked,
                actual=last_snapshot[acc.id],
                detail=f"{acc.id}'s newest balance_after_minor differs from its booked balance",
            ))
        if acc.enforce_floor and bal.available < bal.floor:
            found.append(Discrepancy(
                check="balance-floor", subject_id=acc.id, expected=bal.floor, actual=bal.available,
                detail=f"{acc.id} is below its floor: available {bal.available}, floor {bal.floor}",
            ))
    return LedgerCheckReport(
        ok=not found, checked_at=clock.now(), trial_balance=tb, accounts_checked=len(accounts),
        journals_checked=repo.count_journals(session), discrepancies=found,
    )
