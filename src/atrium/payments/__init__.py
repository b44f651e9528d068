"""Payments: transfers between a customer's own accounts, to other Atrium customers and to other banks
through the clearing rail; saved payees.

Invariants:
- A transfer moves money only through the ledger, and only from an account the customer owns.
- Own and internal transfers post one balanced journal in the request's transaction: "completed" or
  nothing at all.
- An interbank transfer holds the payer's money against the bank's clearing account (`bank:clearing:<CCY>`)
  and commits as "pending"; submission to the rail happens after commit (a job picks up pending
  transfers), so a crash between commit and submission loses nothing. Settlement posts the hold and moves
  clearing to the settlement (nostro) asset; a return voids the hold and releases the limit usage.
- Every write is idempotent: one Transfer per (customer, idempotency key); ledger keys derive from the
  transfer id; the rail dedupes by instruction id (= transfer id); a notification for a transfer that is
  no longer pending is a no-op.
"""
