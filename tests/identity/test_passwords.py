"""argon2id hashing: an unknown username costs what a real one does; parameters change by rehashing."""

from __future__ import annotations

from argon2 import extract_parameters

from atrium.identity import passwords


def test_an_unknown_username_is_checked_against_a_hash_of_the_active_cost() -> None:
    """The decoy hash verified for unknown usernames is made by the active hasher, so the answer time does
    not tell who banks here (with the production hasher: ~100 ms both ways)."""
    real = passwords.hash_password("a real password 1")
    assert extract_parameters(passwords._decoy()) == extract_parameters(real)
    assert passwords.verify_password(None, "anything") is False
    passwords.use_fast_hasher(False)
    try:
        slow = extract_parameters(passwords._decoy())
        assert (slow.time_cost, slow.memory_cost) == (3, 64 * 1024)
    finally:
        passwords.use_fast_hasher(True)


def test_verify_and_rehash() -> None:
    stored = passwords.hash_password("a real password 1")
    assert passwords.verify_password(stored, "a real password 1")
    assert not passwords.verify_password(stored, "a real password 2")
    assert not passwords.verify_password("not-a-hash", "a real password 1")
    assert not passwords.needs_rehash(stored)
