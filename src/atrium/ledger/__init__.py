"""The double-entry ledger (M4): TigerBeetle's account model on a SQL database.

Invariants, each enforced in code and checked by `service.check()` (`atrium ledger check`):
- Every journal's legs balance per currency (debits = credits); on PostgreSQL a deferred constraint
  trigger re-checks it at COMMIT, so not even raw SQL can commit an unbalanced journal.
- Journals and legs are append-only (a trigger refuses UPDATE/DELETE on PostgreSQL); corrections are
  reversals, each journal reversed at most once.
- A leg's currency is its account's currency; amounts are 1..MAX_AMOUNT_MINOR.
- Cached totals (debits/credits posted/pending) equal the sum of legs / pending holds.
- A floor-enforced account never has available < -overdraft_limit_minor.
- Every write carries an idempotency key: the same key and request return the first result, the same key
  with another request is a 409.
"""
