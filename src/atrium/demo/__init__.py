"""The demo bank: `atrium demo seed` builds a believable bank to click through and to benchmark against.

Deterministic under a seed: the same command builds the same customers, accounts and six months of
history. Every movement goes through the ledger's service (so the demo's books pass `atrium ledger check`),
back-dated with a frozen clock.
"""
