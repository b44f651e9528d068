"""Identifiers: a short type prefix plus a time-ordered, random suffix (ULID-like, Crockford base32).

Time ordering makes ids usable as cursor keys and keeps B-tree inserts local; the prefix makes an id
self-describing in logs and support tickets ("txn_…", "acct_…").
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(n: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))


_RAND_BITS = 80
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def new_id(prefix: str) -> str:
    """`prefix_` + 10 chars of milliseconds + 16 chars of randomness (26 chars, like a ULID).

    Monotonic within a process (as ULID's monotonic mode): an id made in the same millisecond as the
    previous one, or after the wall clock stepped back, takes the previous random part plus one. So ids
    sort in creation order, and an id used as a cursor or tie-breaker never puts a later row first.
    """
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms, rand = _last_ms, _last_rand + 1
            if rand >= 1 << _RAND_BITS:  # 2^80 ids in one millisecond: borrow the next one
                ms, rand = ms + 1, int.from_bytes(os.urandom(10), "big") >> 1
        else:
            # The top bit stays clear, so a millisecond's run of increments cannot overflow in practice.
            rand = int.from_bytes(os.urandom(10), "big") >> 1
        _last_ms, _last_rand = ms, rand
    return f"{prefix}_{_b32(ms, 10)}{_b32(rand, 16)}"
