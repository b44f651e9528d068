"""Scheduled and standing orders: a one-off transfer on a future date, or a transfer repeated weekly or
monthly on day N, to an own account, an Atrium account or a saved payee.

Invariants:
- An occurrence is identified by (order id, occurrence date) and paid at most once: its transfer's
  idempotency key is `order:<order id>:<date>`, the executions table is unique on (order, date), and the
  order row is locked while an occurrence is paid, so a re-run of the job, two processes running it at
  once, or a crash between occurrences never pays one twice.
- Occurrences are paid in date order and none is skipped: a job that ran late catches up every missed
  occurrence, each on its own key. Dates come from the pure rules in `domain.py` (monthly dates clamp to
  the month's last day: day 31 is 30 April, 29 February in a leap year).
- Payments go through `payments.service.execute` on channel `scheduled` (bank limits for that channel,
  no night-time or online switch). A refusal (funds, limits, closed account, deleted payee) is recorded on
  the occurrence with its reason, and the order moves on to the next period; the third failure in a row
  suspends the order. Each outcome emits StandingOrderExecuted or StandingOrderFailed.
- An order is its customer's only: anyone else's id answers 404.
"""
