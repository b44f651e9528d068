"""Use cases of the accounts domain (the only door other domains use). Services flush, never commit.

- lifecycle: `open_account`, `close_account`, `get_owned`, `get_by_id`, `get_by_number`,
  `get_by_number_for_bank` (the whole account by number, for payments), `list_for_customer`,
  `rename_account`, `lock_open` / `lock_open_ids` (for payments: lock and check accounts are open)
- statements: `statement_page` (filters + cursor), `period_statement` (what the exports print)
- interest: `accrue_account`, `accrue_all`, `post_interest`, `post_due_interest`, `pay_accrued_interest`
"""

from atrium.accounts.service.interest import (
    accrue_account,
    accrue_all,
    pay_accrued_interest,
    post_account_interest,
    post_due_interest,
    post_interest,
    savings_account_ids,
)
from atrium.accounts.service.lifecycle import (
    close_account,
    count_by_status,
    get_by_id,
    get_by_number,
    get_by_number_for_bank,
    get_owned,
    list_for_customer,
    lock_open,
    lock_open_ids,
    open_account,
    rename_account,
)
from atrium.accounts.service.statements import period_statement, statement_page

__all__ = [
    "count_by_status",
    "accrue_account",
    "accrue_all",
    "close_account",
    "get_by_id",
    "get_by_number",
    "get_by_number_for_bank",
    "get_owned",
    "list_for_customer",
    "lock_open",
    "lock_open_ids",
    "open_account",
    "pay_accrued_interest",
    "period_statement",
    "post_account_interest",
    "post_due_interest",
    "post_interest",
    "rename_account",
    "savings_account_ids",
    "statement_page",
]
