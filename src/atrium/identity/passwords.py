"""argon2id through argon2-cffi. Parameters: RFC 9106's second recommended profile scaled for a 2-core
server (64 MiB, 3 passes, 2 lanes); rehash on login when parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# Tests and the demo seeder hash thousands of passwords; they use a cheap hasher on purpose.
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_active = _hasher

# A verified dummy hash so that unknown usernames take as long as known ones (no user enumeration).
_DUMMY = _fast.hash("not-a-password")


def use_fast_hasher(fast: bool = True) -> None:
    global _active
    _active = _fast if fast else _hasher


def hash_password(password: str) -> str:
    return _active.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _active.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _active.check_needs_rehash(stored)
