"""Statement queries: filters, keyset pagination (also across text-search batches) and period statements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from atrium.accounts import service
from atrium.accounts.errors import AccountNotFound, InvalidStatementQuery
from atrium.accounts.schemas import StatementFilters
from atrium.accounts.service import statements as st
from atrium.kit.pagination import decode_cursor, encode_cursor
from tests.accounts import factories as f


def _cst(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture()
def history(session, frozen):  # type: ignore[no-untyped-def]
    """Ten entries: deposits of 1000·i on Feb 1..10 (evens say 工资 salary), a withdrawal on Mar 2."""
    c = f.customer(session)
    acct = f.account(session, c.id)
    for i in range(1, 11):
        f.deposit(
            session,
            acct,
            1000 * i,
            at=_cst(2025, 2, i),
            description=f"工资 salary {i}" if i % 2 == 0 else f"refund {i}",
            kind="payroll" if i % 2 == 0 else "refund",
        )
    f.withdraw(session, acct, 5_000, at=_cst(2025, 3, 2), description="ATM 取款")
    return c, acct


def _page(c, acct, session, cursor=None, limit=50, **filters):  # type: ignore[no-untyped-def]
    return service.statement_page(
        session,
        customer_id=c.id,
        account_id=acct.id,
        filters=StatementFilters(**filters),
        cursor=cursor,
        limit=limit,
    )


def _all(c, acct, session, limit, **filters):  # type: ignore[no-untyped-def]
    out, cursor, pages = [], None, 0
    while True:
        page = _page(c, acct, session, cursor=cursor, limit=limit, **filters)
        out += page.entries
        pages += 1
        assert len(page.entries) <= limit
        if page.next_cursor is None:
            return out, pages
        cursor = page.next_cursor


def test_newest_first_with_direction_and_balance(history, session) -> None:
    c, acct = history
    page = _page(c, acct, session)
    assert [e.amount_minor for e in page.entries][:3] == [5_000, 10_000, 9_000]
    assert page.entries[0].direction == "out" and page.entries[1].direction == "in"
    assert page.entries[0].balance_after_minor == 55_000 - 5_000
    assert page.next_cursor is None


@pytest.mark.parametrize("limit", [1, 3, 4, 11, 50])
def test_pagination_visits_every_entry_once(history, session, limit) -> None:
    c, acct = history
    entries, pages = _all(c, acct, session, limit)
    assert len(entries) == 11 and len({e.journal_id for e in entries}) == 11
    assert pages == -(-11 // limit)
    assert [e.posted_at for e in entries] == sorted((e.posted_at for e in entries), reverse=True)


@pytest.mark.parametrize(
    ("filters", "amounts"),
    [
        ({"direction": "out"}, [5_000]),
        ({"direction": "in", "min_amount_minor": 8_000}, [10_000, 9_000, 8_000]),
        ({"max_amount_minor": 2_000}, [2_000, 1_000]),
        ({"kinds": ("payroll",), "min_amount_minor": 3_000, "max_amount_minor": 7_000}, [6_000, 4_000]),
        ({"date_from": date(2025, 2, 3), "date_to": date(2025, 2, 4)}, [4_000, 3_000]),
        ({"date_from": date(2025, 3, 1)}, [5_000]),
        ({"text": "SALARY"}, [10_000, 8_000, 6_000, 4_000, 2_000]),
        ({"text": "工资", "date_to": date(2025, 2, 5)}, [4_000, 2_000]),
        ({"text": "取款"}, [5_000]),
        ({"text": "nothing like this"}, []),
    ],
)
def test_filters(history, session, filters, amounts) -> None:
    c, acct = history
    entries, _ = _all(c, acct, session, 2, **filters)
    assert [e.amount_minor for e in entries] == amounts


def test_text_search_pages_continue_inside_a_scanned_batch(history, session) -> None:
    c, acct = history
    first = _page(c, acct, session, limit=2, text="salary")
    assert [e.amount_minor for e in first.entries] == [10_000, 8_000]
    ledger_cursor, skip, _tag = decode_cursor(first.next_cursor)
    assert ledger_cursor is None and skip > 0  # resumes in the middle of the first ledger batch
    second = _page(c, acct, session, cursor=first.next_cursor, limit=2, text="salary")
    assert [e.amount_minor for e in second.entries] == [6_000, 4_000]


def test_text_search_scans_in_bounded_batches(history, session, monkeypatch) -> None:
    c, acct = history
    monkeypatch.setattr(st, "_SCAN_BATCH", 3)
    monkeypatch.setattr(st, "_SCAN_BUDGET", 4)
    first = _page(c, acct, session, limit=2, text="refund")
    # The budget (4 scanned) ran out before the page filled: a short page, and a cursor that carries on.
    assert [e.amount_minor for e in first.entries] == [9_000] and first.next_cursor is not None
    entries, _ = _all(c, acct, session, 2, text="refund")
    assert [e.amount_minor for e in entries] == [9_000, 7_000, 5_000, 3_000, 1_000]


def test_cursor_must_belong_to_the_same_query(history, session) -> None:
    c, acct = history
    page = _page(c, acct, session, limit=2)
    with pytest.raises(InvalidStatementQuery, match="does not belong"):
        _page(c, acct, session, cursor=page.next_cursor, limit=2, direction="in")
    _, _, tag = decode_cursor(page.next_cursor)
    with pytest.raises(InvalidStatementQuery, match="malformed"):
        _page(c, acct, session, cursor=encode_cursor(["!!!", 0, tag]), limit=2)
    for bad in ("!!!", encode_cursor([1, 2]), encode_cursor(["x", -1, "t"]), encode_cursor({"a": 1})):  # type: ignore[arg-type]
        with pytest.raises(InvalidStatementQuery):
            _page(c, acct, session, cursor=bad)


@pytest.mark.parametrize(
    ("filters", "limit"),
    [
        ({"date_from": date(2025, 3, 2), "date_to": date(2025, 3, 1)}, 50),
        ({"min_amount_minor": 10, "max_amount_minor": 5}, 50),
        ({"min_amount_minor": -1}, 50),
        ({"text": "x" * 101}, 50),
        ({"kinds": ("",)}, 50),
        ({}, 0),
        ({}, 201),
    ],
)
def test_bad_queries_are_refused(history, session, filters, limit) -> None:
    c, acct = history
    with pytest.raises(InvalidStatementQuery):
        _page(c, acct, session, limit=limit, **filters)


def test_statement_of_someone_elses_account_is_not_found(history, session) -> None:
    _, acct = history
    stranger = f.customer(session)
    with pytest.raises(AccountNotFound):
        _page(stranger, acct, session)
    with pytest.raises(AccountNotFound):
        service.period_statement(session, customer_id=stranger.id, account_id=acct.id)


def test_period_statement_opening_closing_and_totals(history, session) -> None:
    c, acct = history
    s = service.period_statement(
        session, customer_id=c.id, account_id=acct.id, date_from=date(2025, 2, 4), date_to=date(2025, 3, 2)
    )
    assert s.opening_balance_minor == 1_000 + 2_000 + 3_000  # balance_after of the last entry before Feb 4
    assert [e.amount_minor for e in s.entries] == [4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000, 5_000]
    assert s.totals.money_in_minor == 49_000 and s.totals.money_out_minor == 5_000 and s.totals.count == 8
    assert s.closing_balance_minor == 50_000
    assert (
        s.opening_balance_minor + s.totals.money_in_minor - s.totals.money_out_minor
        == s.closing_balance_minor
    )
    # Default period: this month to date (frozen today is 2025-03-10).
    month = service.period_statement(session, customer_id=c.id, account_id=acct.id)
    assert (month.date_from, month.date_to) == (date(2025, 3, 1), date(2025, 3, 10))
    assert month.opening_balance_minor == 55_000 and month.closing_balance_minor == 50_000
    empty = service.period_statement(
        session, customer_id=c.id, account_id=acct.id, date_from=date(2025, 1, 1), date_to=date(2025, 1, 31)
    )
    assert (empty.opening_balance_minor, empty.closing_balance_minor, empty.entries) == (0, 0, [])


def test_period_statement_day_boundaries_are_bank_local(session, frozen) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    # 23:59 on Feb 28 in Beijing is 15:59 UTC; 00:01 on Mar 1 in Beijing is 16:01 UTC on Feb 28.
    f.deposit(session, acct, 100, at=datetime(2025, 2, 28, 15, 59, tzinfo=UTC))
    f.deposit(session, acct, 200, at=datetime(2025, 2, 28, 16, 1, tzinfo=UTC))
    feb = service.period_statement(
        session, customer_id=c.id, account_id=acct.id, date_from=date(2025, 2, 1), date_to=date(2025, 2, 28)
    )
    mar = service.period_statement(
        session, customer_id=c.id, account_id=acct.id, date_from=date(2025, 3, 1), date_to=date(2025, 3, 1)
    )
    assert [e.amount_minor for e in feb.entries] == [100]
    assert [e.amount_minor for e in mar.entries] == [200] and mar.opening_balance_minor == 100


@pytest.mark.parametrize(
    ("d_from", "d_to", "match"),
    [
        (date(2025, 3, 5), date(2025, 3, 1), "after"),
        (date(2025, 3, 1), date(2025, 3, 11), "future"),
        (date(2023, 1, 1), date(2025, 3, 1), "at most"),
    ],
)
def test_period_statement_refuses_bad_periods(session, frozen, d_from, d_to, match) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    with pytest.raises(InvalidStatementQuery, match=match):
        service.period_statement(
            session, customer_id=c.id, account_id=acct.id, date_from=d_from, date_to=d_to
        )
