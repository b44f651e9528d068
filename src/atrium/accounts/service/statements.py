"""Statements: a filtered, cursor-paginated view of an account's ledger entries, and whole-period statements
(opening balance, entries, totals, closing balance) for the CSV and PDF exports.

Most filters go down to the ledger's keyset query. Text search in descriptions is applied here, so a page
is filled by scanning ledger batches; the cursor remembers the ledger cursor of the batch being read and
how many of its entries were consumed, which keeps pages exact without re-reading or skipping an entry.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from atrium.accounts import domain
from atrium.accounts.errors import InvalidStatementQuery
from atrium.accounts.schemas import (
    Statement,
    StatementEntryRead,
    StatementFilters,
    StatementPage,
    StatementTotals,
)
from atrium.accounts.service.lifecycle import _owned, to_read
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.errors import ValidationFailed
from atrium.kit.hashing import fingerprint
from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.ledger import service as ledger
from atrium.ledger.schemas import EntryRead

MAX_PAGE = 200
_SCAN_BATCH = 200
# A text search stops after this many non-matching entries and returns a short page with a cursor, so one
# request never walks a whole account's history.
_SCAN_BUDGET = 2_000
MAX_STATEMENT_DAYS = 366
MAX_STATEMENT_ENTRIES = 20_000
_LEDGER_SIDE = {"in": "credit", "out": "debit"}


def check_filters(f: StatementFilters) -> None:
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise InvalidStatementQuery("`from` must not be after `to`")
    for name, value in (("min_amount_minor", f.min_amount_minor), ("max_amount_minor", f.max_amount_minor)):
        if value is not None and not 0 <= value <= MAX_AMOUNT_MINOR:
            raise InvalidStatementQuery(f"{name} must be between 0 and {MAX_AMOUNT_MINOR}")
    if (
        f.min_amount_minor is not None
        and f.max_amount_minor is not None
        and f.min_amount_minor > f.max_amount_minor
    ):
        raise InvalidStatementQuery("min_amount_minor must not exceed max_amount_minor")
    if f.text is not None and not 1 <= len(f.text) <= 100:
        raise InvalidStatementQuery("a text search has 1 to 100 characters")
    if len(f.kinds) > 20 or any(not 1 <= len(k) <= 40 for k in f.kinds):
        raise InvalidStatementQuery("give at most 20 kinds of 1 to 40 characters")


def _entry(e: EntryRead) -> StatementEntryRead:
    return StatementEntryRead(
        journal_id=e.journal_id,
        posted_at=e.posted_at,
        direction=domain.entry_direction(e.side),
        amount_minor=e.amount_minor,
        currency=e.currency,
        kind=e.kind,
        description=e.description,
        balance_after_minor=e.balance_after_minor,
    )


def _ledger_page(
    session: Session, ledger_account_id: str, f: StatementFilters, cursor: str | None, limit: int
):  # type: ignore[no-untyped-def]
    return ledger.list_entries(
        session,
        ledger_account_id,
        since=domain.day_start(f.date_from) if f.date_from else None,
        until=domain.day_start(f.date_to + timedelta(days=1)) if f.date_to else None,
        kinds=list(f.kinds) or None,
        min_amount=f.min_amount_minor,
        max_amount=f.max_amount_minor,
        direction=_LEDGER_SIDE[f.direction] if f.direction else None,
        cursor=cursor,
        limit=limit,
    )


def _matches(e: EntryRead, text: str | None) -> bool:
    return text is None or text.casefold() in e.description.casefold()


def _decode(cursor: str | None, tag: str) -> tuple[str | None, int]:
    if cursor is None:
        return None, 0
    try:
        value = decode_cursor(cursor)
    except ValidationFailed:
        raise InvalidStatementQuery("malformed cursor") from None
    if (
        len(value) != 3
        or not isinstance(value[0], str | None)
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or not 0 <= value[1] <= max(MAX_PAGE, _SCAN_BATCH)
        or value[2] != tag
    ):
        # Also refuses a cursor from another account or from other filters: it would skip or repeat rows.
        raise InvalidStatementQuery("this cursor does not belong to this statement query")
    return value[0], value[1]


def statement_page(
    session: Session,
    *,
    customer_id: str,
    account_id: str,
    filters: StatementFilters,
    cursor: str | None = None,
    limit: int = 50,
) -> StatementPage:
    """Entries newest first, filtered; `next_cursor` continues with older entries (None at the end)."""
    account = _owned(session, customer_id, account_id)
    check_filters(filters)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidStatementQuery(f"limit must be between 1 and {MAX_PAGE}")
    tag = fingerprint([account.id, filters.model_dump(mode="json")])[:16]
    ledger_cursor, skip = _decode(cursor, tag)
    batch_size = limit if filters.text is None else max(limit, _SCAN_BATCH)
    out: list[StatementEntryRead] = []
    scanned = 0
    while True:
        try:
            page = _ledger_page(session, account.ledger_account_id, filters, ledger_cursor, batch_size)
        except ValidationFailed:
            # Our own arguments are checked above; what the ledger can still refuse is a tampered cursor.
            raise InvalidStatementQuery("malformed cursor") from None
        for i, e in enumerate(page.items[skip:], start=skip):
            scanned += 1
            if _matches(e, filters.text):
                out.append(_entry(e))
            if len(out) == limit or (scanned >= _SCAN_BUDGET and i + 1 < len(page.items)):
                if i + 1 < len(page.items):
                    nxt: tuple[str | None, int] | None = (ledger_cursor, i + 1)
                else:
                    nxt = (page.next_cursor, 0) if page.next_cursor else None
                return StatementPage(
                    account_id=account.id,
                    currency=account.currency,
                    entries=out,
                    next_cursor=encode_cursor([*nxt, tag]) if nxt else None,
                )
        if page.next_cursor is None:
            return StatementPage(account_id=account.id, currency=account.currency, entries=out)
        ledger_cursor, skip = page.next_cursor, 0
        if scanned >= _SCAN_BUDGET:
            return StatementPage(
                account_id=account.id,
                currency=account.currency,
                entries=out,
                next_cursor=encode_cursor([ledger_cursor, 0, tag]),
            )


def balance_before(session: Session, ledger_account_id: str, day: date) -> int:
    """The booked balance when bank-local `day` began: balance_after of the last entry before it."""
    page = ledger.list_entries(session, ledger_account_id, until=domain.day_start(day), limit=1)
    return page.items[0].balance_after_minor if page.items else 0


def entries_between(
    session: Session,
    ledger_account_id: str,
    first: date,
    last: date,
    *,
    max_entries: int | None = MAX_STATEMENT_ENTRIES,
) -> list[EntryRead]:
    """Every entry of bank-local days first..last, oldest first."""
    items: list[EntryRead] = []
    cursor = None
    while True:
        page = ledger.list_entries(
            session,
            ledger_account_id,
            since=domain.day_start(first),
            until=domain.day_start(last + timedelta(days=1)),
            cursor=cursor,
            limit=_SCAN_BATCH,
        )
        items.extend(page.items)
        if max_entries is not None and len(items) > max_entries:
            raise InvalidStatementQuery(
                f"the period has more than {MAX_STATEMENT_ENTRIES} entries; choose a shorter one"
            )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    items.reverse()
    return items


def default_period(today: date) -> tuple[date, date]:
    return today.replace(day=1), today


def period_statement(
    session: Session,
    *,
    customer_id: str,
    account_id: str,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Statement:
    """The statement of one period (bank-local days, inclusive): what the CSV and PDF exports print."""
    account = _owned(session, customer_id, account_id)
    today = domain.local_date(clock.now())
    d_from, d_to = default_period(today)
    d_from, d_to = date_from or d_from, date_to or d_to
    if d_from > d_to:
        raise InvalidStatementQuery("`from` must not be after `to`")
    if d_to > today:
        raise InvalidStatementQuery("a statement period cannot end in the future")
    if (d_to - d_from).days + 1 > MAX_STATEMENT_DAYS:
        raise InvalidStatementQuery(f"a statement covers at most {MAX_STATEMENT_DAYS} days")
    opening = balance_before(session, account.ledger_account_id, d_from)
    entries = [_entry(e) for e in entries_between(session, account.ledger_account_id, d_from, d_to)]
    money_in = sum(e.amount_minor for e in entries if e.direction == "in")
    money_out = sum(e.amount_minor for e in entries if e.direction == "out")
    owner = identity.get_customer(session, account.customer_id)
    return Statement(
        account=to_read(session, account),
        owner_name=owner.display_name if owner else None,
        date_from=d_from,
        date_to=d_to,
        opening_balance_minor=opening,
        closing_balance_minor=entries[-1].balance_after_minor if entries else opening,
        entries=entries,
        totals=StatementTotals(count=len(entries), money_in_minor=money_in, money_out_minor=money_out),
        generated_at=clock.now(),
    )
