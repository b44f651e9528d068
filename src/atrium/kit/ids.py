"""Identifiers: a short type prefix plus a time-ordered, random suffix (ULID-like, Crockford base32).

Time ordering makes ids usable as cursor keys and keeps B-tree inserts local; the prefix makes an id
self-describing in logs and support tickets ("txn_…", "acct_…").
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(n: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """`prefix_` + 10 chars of milliseconds + 16 chars of randomness (26 chars, like a ULID)."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_b32(ms, 10)}{_b32(rand, 16)}"
