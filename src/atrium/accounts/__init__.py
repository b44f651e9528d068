"""Deposit accounts (M4): current and savings accounts on top of the ledger, statements, exports, interest.

Invariants:
- Every deposit account wraps exactly one floor-enforced ledger *liability* account; balances are never
  stored here — booked and available come from the ledger.
- Account numbers are 19 digits: the bank's BIN, a random serial and a Luhn check digit; unique.
- Another customer's account is indistinguishable from a missing one (404, never 403).
- A closed account neither sends nor receives (`service.lock_open` is the check payments make); it can only
  be closed when booked is zero, nothing is pending and no accrued interest is unpaid.
- Interest accrues once per (account, bank-local day) in integer arithmetic with a carried remainder, and is
  paid once per (account, month) through an idempotent ledger journal.
"""
