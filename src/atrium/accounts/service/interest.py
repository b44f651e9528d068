"""Savings interest: daily accrual into `deposit_interest_accruals`, monthly posting through the ledger.

- Accrual is idempotent and catches up: each savings account accrues every bank-local day from the day
  after its last accrual (or its opening day) through the requested day, one row per (account, day) —
  the primary key refuses a second row for the same day. The balance of a day is the booked balance at
  its end (the last ledger entry's balance_after before midnight). See `domain` for the integer maths.
- Posting pays a month's accrued whole minor units on or after the 1st of the next month: debit the bank's
  `bank:interest-expense:<CCY>` account, credit the customer's account, with the ledger idempotency key
  `accounts:interest:<account>:<period>`, so a re-run (or a crash between ledger and accrual rows) never
  pays twice. Accrual rows are marked with the journal in the same transaction.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from atrium.accounts import domain
from atrium.accounts import repository as repo
from atrium.accounts.errors import AccountClosed, InterestPeriodOpen, InvalidAccountRequest
from atrium.accounts.models import DepositAccount, InterestAccrual
from atrium.accounts.schemas import InterestPostingRead
from atrium.accounts.service.lifecycle import _owned
from atrium.accounts.service.statements import balance_before, entries_between
from atrium.config import get_settings
from atrium.events import outbox
from atrium.events.catalogue import InterestPosted
from atrium.kit import clock
from atrium.ledger import service as ledger
from atrium.logs import get_logger

log = get_logger("atrium.accounts.interest")


def today() -> date:
    return domain.local_date(clock.now())


def savings_account_ids(session: Session) -> list[str]:
    return repo.savings_account_ids(session)


def _end_of_day_balances(session: Session, account: DepositAccount, first: date, last: date) -> list[int]:
    balance = balance_before(session, account.ledger_account_id, first)
    entries = entries_between(session, account.ledger_account_id, first, last, max_entries=None)
    out: list[int] = []
    i = 0
    for day in domain.days(first, last):
        # Entries are oldest first; take every entry of this day and keep the last balance.
        while i < len(entries) and domain.local_date(entries[i].posted_at) <= day:
            balance = entries[i].balance_after_minor
            i += 1
        out.append(balance)
    return out


def _accrue_locked(session: Session, account: DepositAccount, through: date) -> int:
    if account.product != "savings" or account.status != "open":
        return 0
    last = repo.last_accrual(session, account.id)
    first = last.accrual_date + timedelta(days=1) if last else domain.local_date(account.opened_at)
    through = min(through, today() - timedelta(days=1))  # only whole days that have ended
    if first > through:
        return 0
    rate = domain.annual_rate_bp(account.product, get_settings().ledger.savings_rate_bp)
    carry = last.carry_after if last else 0
    rows = []
    for day, balance in zip(
        domain.days(first, through), _end_of_day_balances(session, account, first, through), strict=True
    ):
        amount, carry = domain.accrue_day(balance, rate, carry)
        rows.append(
            InterestAccrual(
                account_id=account.id,
                accrual_date=day,
                period=domain.period_of(day),
                balance_minor=balance,
                rate_bp=rate,
                amount_minor=amount,
                carry_after=carry,
            )
        )
    repo.add_accruals(session, rows)
    return len(rows)


def accrue_account(session: Session, account_id: str, *, through: date | None = None) -> int:
    """Accrue one account's missing days through `through` (default: yesterday). Returns rows added."""
    account = repo.get(session, account_id, lock=True)  # serialises two runs of the job
    if account is None:
        raise InvalidAccountRequest("no such account", account_id=account_id)
    return _accrue_locked(session, account, through or today() - timedelta(days=1))


def accrue_all(session: Session, *, through: date | None = None) -> int:
    return sum(accrue_account(session, a, through=through) for a in savings_account_ids(session))


def unpaid_interest_minor(session: Session, account: DepositAccount) -> int:
    """Whole minor units accrued (through yesterday) and not yet paid. The caller holds the row lock."""
    _accrue_locked(session, account, today() - timedelta(days=1))
    return sum(r.amount_minor for r in repo.unsettled(session, account.id))


def _pay(
    session: Session, account: DepositAccount, rows: list[InterestAccrual], *, key: str, period: str
) -> InterestPostingRead | None:
    total = sum(r.amount_minor for r in rows)
    if total == 0:
        repo.settle(session, account.id, [r.accrual_date for r in rows], journal_id=None)
        return None
    expense = ledger.get_or_create_internal(
        session,
        code=f"bank:interest-expense:{account.currency}",
        name=f"Interest expense {account.currency}",
        type="expense",
        currency=account.currency,
    )
    journal = ledger.post_transfer(
        session,
        idempotency_key=key,
        debit_account_id=expense.id,
        credit_account_id=account.ledger_account_id,
        amount_minor=total,
        currency=account.currency,
        kind="interest",
        description=f"Interest {period} 利息",
        metadata={"deposit_account_id": account.id, "period": period, "days": len(rows)},
    )
    repo.settle(session, account.id, [r.accrual_date for r in rows], journal_id=journal.id)
    outbox.record(
        session,
        InterestPosted(
            account_id=account.id,
            amount_minor=total,
            currency=account.currency,
            period=period,
        ),
    )
    return InterestPostingRead(
        account_id=account.id,
        period=period,
        amount_minor=total,
        currency=account.currency,
        journal_id=journal.id,
        days=len(rows),
    )


def post_account_interest(session: Session, account_id: str, period: str) -> InterestPostingRead | None:
    """Pay one account's interest for `period` (YYYY-MM, a month that has ended). None if nothing is due."""
    try:
        first, last = domain.parse_period(period)
    except domain.RuleError as exc:
        raise InvalidAccountRequest(str(exc)) from None
    if last >= today():
        raise InterestPeriodOpen(f"interest for {period} is paid once the month has ended", period=period)
    account = repo.get(session, account_id, lock=True)
    if account is None or account.product != "savings":
        return None
    _accrue_locked(session, account, last)
    rows = repo.unsettled(session, account.id, period=period)
    if not rows:
        return None
    if account.status != "open" and any(r.amount_minor for r in rows):
        # Closing refuses while whole units are unpaid, so this means the rows were changed by hand.
        log.warning("unpaid interest on a closed account", account_id=account.id)
        return None
    return _pay(session, account, rows, key=f"accounts:interest:{account.id}:{period}", period=period)


def post_interest(session: Session, period: str) -> list[InterestPostingRead]:
    """Pay every savings account's interest for `period`. Safe to run again: nothing is paid twice."""
    postings = [
        post_account_interest(session, a, period)
        for a in repo.savings_account_ids(session, include_closed=True)
    ]
    return [p for p in postings if p is not None]


def post_due_interest(session: Session, account_id: str) -> list[InterestPostingRead]:
    """Accrue through yesterday, then pay every ended month of one account that still has unpaid accruals
    (so a run on the 2nd catches up a 1st the server missed)."""
    accrue_account(session, account_id)
    current = domain.period_of(today())
    postings = [
        post_account_interest(session, account_id, p)
        for p in repo.unsettled_periods(session, account_id)
        if p < current
    ]
    return [p for p in postings if p is not None]


def pay_accrued_interest(
    session: Session, *, customer_id: str, account_id: str
) -> InterestPostingRead | None:
    """Pay the interest accrued so far (through yesterday) now, e.g. before closing a savings account."""
    account = _owned(session, customer_id, account_id, lock=True)
    if account.status != "open":
        raise AccountClosed("the account is closed", account_id=account_id)
    if account.product != "savings":
        raise InvalidAccountRequest("only savings accounts earn interest", account_id=account_id)
    _accrue_locked(session, account, today() - timedelta(days=1))
    rows = repo.unsettled(session, account.id)
    if not rows:
        return None
    through = rows[-1].accrual_date
    return _pay(
        session,
        account,
        rows,
        key=f"accounts:interest:{account.id}:through:{through.isoformat()}",
        period=domain.period_of(through),
    )
