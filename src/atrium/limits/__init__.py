"""Payment limits and the customer's own payment controls (M6).

Invariants:
- A payment passes only if every switch that governs it is on, its amount is within the per-transaction
  limit, and the day's and the month's usage after it stay within the daily and monthly limits. The
  effective limit is min(bank limit for the channel, the customer's own limit); checks run in exactly that
  order (switches → per transaction → daily → monthly), and the first refusal is the one reported.
- Usage is counted per (customer, method, currency, day | month) in Asia/Shanghai calendar periods, in a
  counter row locked with SELECT … FOR UPDATE in the caller's transaction, so two concurrent payments of one
  customer cannot both slip under one limit. Counters never go below zero.
- The customer's own limits can never exceed the bank's; every change to an own limit, a switch or a bank
  limit is written to the audit table in the same transaction, and customer changes emit
  PaymentLimitChanged through the outbox.
"""
