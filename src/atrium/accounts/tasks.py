"""Scheduled jobs of the accounts domain.

`accounts.interest` runs hourly: it accrues each savings account's missing days through yesterday and pays
every ended month that still has unpaid accruals (so the 1st's posting happens at the first run of the
month, and a server that was down on the 1st catches up). Each account is its own unit of work, so one
failing account never holds back the others; every step is idempotent, so a retry is always safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from atrium.accounts import service
from atrium.db.session import Database
from atrium.logs import get_logger
from atrium.runtime import job

log = get_logger("atrium.accounts.tasks")


@dataclass(frozen=True)
class InterestRun:
    accounts: int
    days_accrued: int
    postings: int
    failures: int


def run_interest(db: Database) -> InterestRun:
    ids = db.run(service.savings_account_ids)
    days = postings = failures = 0
    for account_id in ids:
        try:
            days += db.run(lambda s, a=account_id: service.accrue_account(s, a))
            postings += len(db.run(lambda s, a=account_id: service.post_due_interest(s, a)))
        except Exception:
            failures += 1
            log.exception("interest run failed for one account", account_id=account_id)
    return InterestRun(accounts=len(ids), days_accrued=days, postings=postings, failures=failures)


@job("accounts.interest", interval_s=3600)
def interest_job(db: Database) -> InterestRun:
    return run_interest(db)
