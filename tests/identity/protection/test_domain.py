"""The lockout state machine, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.identity.protection import domain
from atrium.identity.protection.domain import LockPolicy, LockState

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
RULES = LockPolicy()


def _fail(lock: LockState, now: datetime, recent: int = 1) -> LockState:
    locking = domain.needs_lock(lock, now, RULES)
    return domain.after_failure(lock, now, RULES, recent_locks=recent if locking else 0)


def test_the_fifth_consecutive_failure_locks_for_fifteen_minutes():
    lock = LockState()
    for _ in range(4):
        lock = _fail(lock, NOW)
        assert domain.refusal(lock, NOW) is None
    assert domain.needs_lock(lock, NOW, RULES)
    lock = _fail(lock, NOW)
    refusal = domain.refusal(lock, NOW)
    assert refusal is not None and refusal.state == "temporary"
    assert refusal.locked_until == NOW + timedelta(minutes=15)
    assert refusal.retry_after_s(NOW) == 900
    assert refusal.retry_after_s(NOW + timedelta(seconds=899, milliseconds=500)) == 1


def test_a_temporary_lock_runs_out_and_the_count_starts_again():
    lock = LockState(failed=5, state="temporary", locked_until=NOW, locked_at=NOW - timedelta(minutes=15))
    assert domain.refusal(lock, NOW) is None  # `locked_until` itself is already free
    after = _fail(lock, NOW)
    assert after.failed == 1 and after.state == "none"


def test_the_permanent_lock_needs_the_third_recent_lock():
    four = LockState(failed=4)
    assert domain.after_failure(four, NOW, RULES, recent_locks=2).state == "temporary"
    permanent = domain.after_failure(four, NOW, RULES, recent_locks=3)
    assert permanent.state == "permanent" and permanent.locked_until is None
    assert domain.refusal(permanent, NOW + timedelta(days=365)) is not None


def test_failures_while_locked_change_nothing_and_success_resets():
    locked = LockState(failed=5, state="temporary", locked_until=NOW + timedelta(minutes=3), lock_count=1)
    assert domain.after_failure(locked, NOW, RULES, recent_locks=9) == locked
    assert not domain.needs_lock(locked, NOW, RULES)
    assert domain.after_success(LockState(failed=3, lock_count=2)) == LockState(failed=0, lock_count=2)


def test_policies_must_be_positive():
    with pytest.raises(ValueError):
        LockPolicy(max_failures=0)
    with pytest.raises(ValueError):
        LockPolicy(permanent_window_h=0)


@given(st.lists(st.booleans(), max_size=40))
def test_never_more_than_max_failures_in_a_row_without_a_lock(outcomes):
    """Whatever the sequence of wrong (False) and right (True) passwords, all at one instant: the account
    is locked exactly when five wrong ones came in a row since the last success."""
    lock, streak = LockState(), 0
    for right in outcomes:
        if domain.refusal(lock, NOW) is not None:
            break
        if right:
            lock, streak = domain.after_success(lock), 0
        else:
            lock, streak = _fail(lock, NOW), streak + 1
        assert (domain.refusal(lock, NOW) is not None) == (streak >= RULES.max_failures)
