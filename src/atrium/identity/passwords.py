"""argon2id through argon2-cffi. Parameters: RFC 9106's second recommended profile scaled for a 2-core
server (64 MiB, 3 passes, 2 lanes); rehash on login when parameters change."""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# Tests and the demo seeder hash thousands of passwords; they use a cheap hasher on purpose.
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_active = _hasher

# At most this many argon2 computations at once: each is ~100 ms of CPU and 64 MiB, and more of them than
# cores only makes every sign-in slower (and a flood of them a memory problem).
_slots = threading.BoundedSemaphore(os.cpu_count() or 2)
# A decoy hash by the active hasher, verified for unknown usernames so that they take as long as known ones
# (an answer time must not tell who banks here).
_decoys: dict[int, str] = {}


def _decoy() -> str:
    return _decoys.setdefault(id(_active), _active.hash("not-a-password"))


def use_fast_hasher(fast: bool = True) -> None:
    global _active
    _active = _fast if fast else _hasher


def hash_password(password: str) -> str:
    with _slots:
        return _active.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    with _slots:
        try:
            return _active.verify(stored or _decoy(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(stored: str) -> bool:
    return _active.check_needs_rehash(stored)
