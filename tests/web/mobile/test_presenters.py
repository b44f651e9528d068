"""The pure presentation helpers: totals never mix currencies, recent entries merge newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atrium.accounts.schemas import DepositAccountRead, StatementEntryRead
from atrium.web.mobile import presenters
from atrium.web.mobile.i18n import Translator

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _account(i: str, currency: str, booked: int, available: int, status: str = "open") -> DepositAccountRead:
    return DepositAccountRead(
        id=i, customer_id="c", product="current", currency=currency, number="6222880000000000000",
        masked_number="6222 **** **** 0000", nickname=None, status=status, ledger_account_id="l",
        booked_minor=booked, available_minor=available, opened_at=T0,
    )


def _entry(minutes: int, description: str = "x", kind: str = "transfer.own") -> StatementEntryRead:
    return StatementEntryRead(
        journal_id=f"j{minutes}", posted_at=T0 + timedelta(minutes=minutes), direction="in", amount_minor=1,
        currency="CNY", kind=kind, description=description, balance_after_minor=1,
    )


def test_totals_per_currency_home_currency_first_closed_ignored():
    totals = presenters.totals_by_currency([
        _account("a", "USD", 100, 90), _account("b", "CNY", 500, 500), _account("c", "CNY", 250, 200),
        _account("d", "CNY", 999, 999, status="closed"),
    ])
    assert [(x.currency, x.booked_minor, x.available_minor, x.accounts) for x in totals] == [
        ("CNY", 750, 700, 2), ("USD", 100, 90, 1),
    ]


def test_recent_entries_merge_across_accounts_newest_first():
    a, b = _account("a", "CNY", 0, 0), _account("b", "CNY", 0, 0)
    merged = presenters.merge_recent([(a, [_entry(5), _entry(1)]), (b, [_entry(3), _entry(9)])], limit=3)
    assert [(d.account.id, d.entry.journal_id) for d in merged] == [("b", "j9"), ("a", "j5"), ("b", "j3")]


def test_entry_titles_fall_back_to_the_kind():
    t = Translator("en")
    assert presenters.entry_title(_entry(1, "Rent"), t) == "Rent"
    assert presenters.entry_title(_entry(1, "Transfer"), t) == "Between own accounts"
    assert presenters.entry_title(_entry(1, "", kind="mystery"), t) == "Account movement"
    assert presenters.entry_icon(_entry(1, kind="qr_payment")) == "store"


def test_greeting_follows_beijing_time():
    assert presenters.greeting_key(datetime(2026, 3, 1, 1, 0, tzinfo=UTC)) == "home.greeting.morning"  # 09:00
    evening = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 20:00 in Beijing
    assert presenters.greeting_key(evening) == "home.greeting.evening"
