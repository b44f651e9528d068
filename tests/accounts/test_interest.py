"""Savings interest against the real ledger: daily accrual (idempotent, catching up), monthly posting that
never pays twice, the scheduled job, and closing a savings account with interest outstanding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from atrium.accounts import domain, service
from atrium.accounts.errors import AccountNotEmpty, InterestPeriodOpen, InvalidAccountRequest
from atrium.accounts.models import InterestAccrual
from atrium.accounts.tasks import run_interest
from atrium.events.models import OutboxEvent
from atrium.ledger import service as ledger
from tests.accounts import factories as f

RATE = 150  # the default settings.ledger.savings_rate_bp
D = domain.DAY_DENOMINATOR


def _cst(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC) - timedelta(hours=8)


def _rows(session, account_id: str) -> list[InterestAccrual]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(InterestAccrual)
            .where(InterestAccrual.account_id == account_id)
            .order_by(InterestAccrual.accrual_date)
        )
    )


def _interest_journals(session, acct) -> list:  # type: ignore[no-untyped-def]
    return ledger.list_entries(session, acct.ledger_account_id, kinds=["interest"], limit=200).items


@pytest.fixture()
def saver(session, frozen):  # type: ignore[no-untyped-def]
    """A savings account opened 2025-03-10 10:00 CST with 1,000,000.00 CNY deposited at once."""
    c = f.customer(session)
    acct = f.account(session, c.id, "savings")
    f.deposit(session, acct, 100_000_000)
    return c, acct


def test_accrues_each_ended_day_once_and_catches_up(saver, session, frozen) -> None:
    _, acct = saver
    assert service.accrue_account(session, acct.id) == 0  # the opening day has not ended yet
    frozen.set(_cst(date(2025, 3, 13)))
    assert service.accrue_account(session, acct.id) == 3  # Mar 10, 11, 12
    assert service.accrue_account(session, acct.id) == 0  # idempotent
    frozen.set(_cst(date(2025, 4, 3)))
    assert service.accrue_all(session) == 21  # Mar 13 … Apr 2, a missed stretch caught up
    rows = _rows(session, acct.id)
    assert [r.accrual_date for r in rows] == list(domain.days(date(2025, 3, 10), date(2025, 4, 2)))
    assert {r.balance_minor for r in rows} == {100_000_000} and {r.rate_bp for r in rows} == {RATE}
    # Closed form within the carried remainder.
    assert sum(r.amount_minor for r in rows) * D + rows[-1].carry_after == 24 * 100_000_000 * RATE
    assert sum(r.amount_minor for r in rows) == 24 * 100_000_000 * RATE // D
    # Only ended days: `through` in the future is cut at yesterday.
    assert service.accrue_account(session, acct.id, through=date(2025, 12, 31)) == 0


def test_daily_balance_is_the_end_of_day_booked_balance(saver, session, frozen) -> None:
    _, acct = saver
    f.deposit(session, acct, 50_000_000, at=_cst(date(2025, 3, 12), 23))  # 23:00 CST: counts for the 12th
    f.withdraw(session, acct, 120_000_000, at=_cst(date(2025, 3, 14), 9))
    f.deposit(session, acct, 1_000, at=_cst(date(2025, 3, 14), 18))
    frozen.set(_cst(date(2025, 3, 16)))
    service.accrue_account(session, acct.id)
    rows = _rows(session, acct.id)
    expected = [100_000_000, 100_000_000, 150_000_000, 150_000_000, 30_001_000, 30_001_000]
    assert [r.balance_minor for r in rows] == expected
    amounts, carry = domain.accrue_days(expected, RATE)
    assert [r.amount_minor for r in rows] == amounts and rows[-1].carry_after == carry


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    balance=st.integers(min_value=1, max_value=10**13),
    n=st.integers(min_value=1, max_value=70),
    split=st.integers(min_value=0, max_value=70),
)
def test_accrual_over_n_days_matches_the_closed_form(session, frozen, balance, n, split) -> None:
    start = date(2025, 3, 10)
    frozen.set(_cst(start))
    c = f.customer(session)
    acct = f.account(session, c.id, "savings")
    f.deposit(session, acct, balance)
    # Two runs with a pause between them (a catch-up) accrue the same as one run would.
    frozen.set(_cst(start + timedelta(days=min(split, n) + 1)))
    service.accrue_account(session, acct.id)
    frozen.set(_cst(start + timedelta(days=n + 1)))
    service.accrue_account(session, acct.id)
    rows = _rows(session, acct.id)
    assert len(rows) == n + 1  # opening day … yesterday
    exact = (n + 1) * balance * RATE
    assert sum(r.amount_minor for r in rows) == exact // D
    assert rows[-1].carry_after == exact % D


def test_month_end_posting_pays_once_through_the_ledger(saver, session, frozen) -> None:
    _, acct = saver
    frozen.set(_cst(date(2025, 4, 3)))
    service.accrue_account(session, acct.id)
    with pytest.raises(InterestPeriodOpen):
        service.post_interest(session, "2025-04")
    with pytest.raises(InvalidAccountRequest):
        service.post_interest(session, "2025-4")
    postings = service.post_interest(session, "2025-03")
    march = 22 * 100_000_000 * RATE // D  # Mar 10..31, constant balance: the carry never crosses a unit
    assert [(p.account_id, p.period, p.amount_minor, p.days) for p in postings] == [
        (acct.id, "2025-03", march, 22)
    ]
    assert service.get_by_id(session, acct.id).booked_minor == 100_000_000 + march
    journal = ledger.get_journal(session, postings[0].journal_id)
    legs = {leg.side: leg for leg in journal.legs}
    assert legs["credit"].account_id == acct.ledger_account_id
    expense = ledger.get_account(session, legs["debit"].account_id)
    assert (expense.code, expense.type) == ("bank:interest-expense:CNY", "expense")
    events = [
        e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.type == "InterestPosted"))
    ]
    assert [(e["account_id"], e["amount_minor"], e["period"]) for e in events] == [
        (acct.id, march, "2025-03")
    ]
    # A re-run pays nothing; the job's catch-up does not pay March again either.
    assert service.post_interest(session, "2025-03") == []
    assert service.post_due_interest(session, acct.id) == []
    # Even if the accrual rows lost their mark, the ledger's key (account, period) refuses a second payment.
    session.execute(
        update(InterestAccrual)
        .where(InterestAccrual.period == "2025-03")
        .values(settled_at=None, posted_journal_id=None)
    )
    again = service.post_interest(session, "2025-03")
    assert again[0].journal_id == postings[0].journal_id
    assert len(_interest_journals(session, acct)) == 1
    assert service.get_by_id(session, acct.id).booked_minor == 100_000_000 + march
    assert ledger.check(session).ok


def test_post_due_interest_catches_up_missed_months(saver, session, frozen) -> None:
    _, acct = saver
    frozen.set(_cst(date(2025, 6, 2)))
    paid = service.post_due_interest(session, acct.id)
    assert [p.period for p in paid] == ["2025-03", "2025-04", "2025-05"]
    assert [p.days for p in paid] == [22, 30, 31]
    rows = _rows(session, acct.id)
    unpaid = [r for r in rows if r.settled_at is None]
    assert [r.accrual_date for r in unpaid] == [date(2025, 6, 1)]
    # All three months were paid late (today), so every accrued day still saw the original balance.
    assert {r.balance_minor for r in rows} == {100_000_000}
    assert service.get_by_id(session, acct.id).booked_minor == 100_000_000 + sum(p.amount_minor for p in paid)


def test_current_accounts_earn_nothing(session, frozen) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id, "current")
    f.deposit(session, acct, 10**9)
    frozen.set(_cst(date(2025, 5, 1)))
    assert service.accrue_all(session) == 0
    assert service.post_interest(session, "2025-03") == []
    assert acct.interest_rate_bp == 0


def test_closing_a_savings_account_needs_its_interest_paid_first(saver, session, frozen) -> None:
    c, acct = saver
    frozen.set(_cst(date(2025, 3, 20)))
    f.withdraw(session, acct, 100_000_000)
    with pytest.raises(AccountNotEmpty, match="accrued interest") as err:
        service.close_account(session, customer_id=c.id, account_id=acct.id)
    due = 10 * 100_000_000 * RATE // D  # Mar 10..19 at 1,000,000.00
    assert err.value.extra["accrued_interest_minor"] == due
    paid = service.pay_accrued_interest(session, customer_id=c.id, account_id=acct.id)
    assert paid is not None and paid.amount_minor == due
    assert service.pay_accrued_interest(session, customer_id=c.id, account_id=acct.id) is None
    f.withdraw(session, acct, due)
    assert service.close_account(session, customer_id=c.id, account_id=acct.id).status == "closed"
    # After closing nothing accrues and the month-end run pays nothing.
    frozen.set(_cst(date(2025, 4, 2)))
    assert service.accrue_all(session) == 0
    assert service.post_interest(session, "2025-03") == []


def test_scheduled_job_accrues_and_posts_idempotently(db, frozen) -> None:
    with db.unit_of_work() as s:
        c = f.customer(s)
        acct = f.account(s, c.id, "savings", "USD")
        f.deposit(s, acct, 5_000_000)
        f.account(s, c.id, "current")
    frozen.set(_cst(date(2025, 4, 1), 0) + timedelta(minutes=30))  # 00:30 on the 1st
    first = run_interest(db)
    assert (first.accounts, first.days_accrued, first.postings, first.failures) == (1, 22, 1, 0)
    second = run_interest(db)
    assert (second.days_accrued, second.postings, second.failures) == (0, 0, 0)
    with db.unit_of_work() as s:
        got = service.get_by_id(s, acct.id)
        assert got.booked_minor == 5_000_000 + 22 * 5_000_000 * RATE // D
        assert len(_interest_journals(s, acct)) == 1


def test_job_is_registered_with_the_runtime() -> None:
    from atrium.runtime import load_jobs

    assert "accounts.interest" in {j.name for j in load_jobs()}
