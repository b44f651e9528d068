"""Merchants: the businesses customers pay by scanning a QR code ("scan code replaces card").

Invariants:
- A merchant is paid only through the ledger: each merchant has one settlement account per currency, a
  floor-enforced ledger *liability* (the bank owes the merchant what customers paid it), opened with the
  merchant or on demand and never shared. Its code is `merchant:<merchant id>:<currency>`.
- Only an `active` merchant can be paid or issue QR codes; `suspended` and `closed` merchants keep their
  accounts and history (a suspended merchant can be reactivated, a closed one cannot).
- A customer sees a merchant's public face only (name, category, city); balances are for staff.
"""
