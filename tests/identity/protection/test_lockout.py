"""Lockout: five wrong passwords lock for 15 minutes, the third lock in 24 hours is permanent until staff
unlock with a reason, and while locked even the right password is refused — for unknown usernames too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.identity import login
from atrium.identity import service as identity
from atrium.identity.protection import lockout
from atrium.identity.protection.errors import AccountLocked, NotLocked, UnlockReasonRequired
from atrium.kit.errors import ValidationFailed
from tests.auth_support import password_sign_in
from tests.identity.protection.conftest import PASSWORD, START, make_customer


def _fail(db, customer_id: str, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        db.run(lambda s: lockout.record_failure(s, customer_id))


def _check(db, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        customer = identity.get_customer(s, customer_id)
        assert customer is not None
        lockout.ensure_can_sign_in(customer)


def _status(db, customer_id: str):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return lockout.status(s, customer_id)


def _lock_temporarily(db, frozen, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    _fail(db, customer_id, 5)
    assert _status(db, customer_id).state in ("temporary", "permanent")


def test_five_failures_lock_for_fifteen_minutes(db, frozen, customer_id):
    _fail(db, customer_id, 4)
    _check(db, customer_id)
    assert _status(db, customer_id).failed_logins == 4
    _fail(db, customer_id)
    with pytest.raises(AccountLocked) as locked:
        _check(db, customer_id)
    err = locked.value
    assert err.status == 423 and err.code == "account-locked"
    assert err.extra == {"lock": "temporary", "locked_until": (START + timedelta(minutes=15)).isoformat(),
                         "retry_after": 900}
    assert "until 2025-03-03T09:15:00+00:00" in err.detail
    status = _status(db, customer_id)
    assert (status.state, status.locked_until, status.locked_at, status.recent_locks) == (
        "temporary", START + timedelta(minutes=15), START, 1)


def test_the_temporary_lock_runs_out(db, frozen, customer_id):
    _fail(db, customer_id, 5)
    frozen.set(START + timedelta(minutes=14, seconds=59))
    with pytest.raises(AccountLocked) as locked:
        _check(db, customer_id)
    assert locked.value.extra["retry_after"] == 1
    frozen.set(START + timedelta(minutes=15))
    _check(db, customer_id)
    assert _status(db, customer_id).state == "none"
    _fail(db, customer_id, 4)  # a fresh count after the lock: four more failures do not lock again
    _check(db, customer_id)


def test_success_resets_the_failure_count(db, frozen, customer_id):
    _fail(db, customer_id, 4)
    db.run(lambda s: lockout.record_success(s, customer_id))
    assert _status(db, customer_id).failed_logins == 0
    _fail(db, customer_id, 4)
    _check(db, customer_id)


def test_the_third_temporary_lock_in_24_hours_is_permanent(db, frozen, customer_id):
    for hours in (0, 8):
        frozen.set(START + timedelta(hours=hours))
        _lock_temporarily(db, frozen, customer_id)
        assert _status(db, customer_id).state == "temporary"
        frozen.set(frozen.now() + timedelta(minutes=15))
    frozen.set(START + timedelta(hours=16))
    _fail(db, customer_id, 5)
    status = _status(db, customer_id)
    assert status.state == "permanent" and status.locked_until is None and status.recent_locks == 3
    frozen.set(START + timedelta(days=60))
    with pytest.raises(AccountLocked) as locked:
        _check(db, customer_id)
    assert locked.value.extra == {"lock": "permanent"}
    assert "until the bank unlocks it" in locked.value.detail


def test_locks_more_than_24_hours_apart_stay_temporary(db, frozen, customer_id):
    for hours in (0, 20, 44):  # the first has left the window by the third
        frozen.set(START + timedelta(hours=hours))
        _lock_temporarily(db, frozen, customer_id)
        assert _status(db, customer_id).state == "temporary"
        frozen.set(frozen.now() + timedelta(minutes=15))


def test_failures_while_locked_do_not_extend_the_lock(db, frozen, customer_id):
    _fail(db, customer_id, 5)
    frozen.set(START + timedelta(minutes=10))
    _fail(db, customer_id, 3)
    status = _status(db, customer_id)
    assert status.locked_until == START + timedelta(minutes=15) and status.recent_locks == 1


def test_staff_unlock_needs_a_reason_and_clears_everything(db, frozen, customer_id):
    for hours in (0, 1, 2):
        frozen.set(START + timedelta(hours=hours))
        _fail(db, customer_id, 5)
        frozen.set(frozen.now() + timedelta(minutes=15))
    assert _status(db, customer_id).state == "permanent"
    for blank in ("", "   ", "\n"):
        with pytest.raises(UnlockReasonRequired):
            db.run(lambda s, r=blank: lockout.unlock(s, customer_id, "stf_x", r))
    with pytest.raises(ValidationFailed):
        db.run(lambda s: lockout.unlock(s, customer_id, "stf_x", "x" * 201))
    before = db.run(lambda s: lockout.unlock(s, customer_id, "stf_x", "called back on the number on file"))
    assert before.state == "permanent"
    status = _status(db, customer_id)
    assert (status.state, status.failed_logins, status.recent_locks) == ("none", 0, 0)
    _check(db, customer_id)
    with pytest.raises(NotLocked):
        db.run(lambda s: lockout.unlock(s, customer_id, "stf_x", "again"))
    _fail(db, customer_id, 5)  # after an unlock, the next lock is a first one again
    assert _status(db, customer_id).state == "temporary"


def test_the_right_password_is_refused_while_locked(db, frozen, customer_id):
    client = login.Client(ip="192.0.2.1", user_agent="test")
    _fail(db, customer_id, 5)
    with pytest.raises(AccountLocked):
        password_sign_in(db, username="mei", password=PASSWORD, client=client)
    frozen.set(START + timedelta(minutes=15))
    outcome = password_sign_in(db, username="mei", password=PASSWORD, client=client)
    assert isinstance(outcome, login.SignedIn)
    assert _status(db, customer_id).failed_logins == 0


def test_an_unknown_username_locks_exactly_like_a_real_one(db, frozen):
    """Parity: the lock answers the same for a username without a customer, at the same moments."""
    make_customer(db, "real")

    def answers(fail, check) -> list:  # type: ignore[no-untyped-def, type-arg]
        seen = []
        for step in range(20):
            frozen.set(START + timedelta(hours=step // 6 * 3, minutes=step % 6 * 4))
            try:
                check()
                seen.append("open")
                fail()
            except AccountLocked as exc:
                seen.append((exc.status, exc.code, exc.detail, exc.extra))
        return seen

    def real_check() -> None:
        _check(db, real_id)

    with db.read_session() as s:
        found = identity.find_customer_by_username(s, "real")
        assert found is not None
        real_id = found.id
    real = answers(lambda: _fail(db, real_id), real_check)
    with db.read_session() as s:
        assert identity.find_customer_by_username(s, "ghost") is None

    def ghost_check() -> None:
        with db.read_session() as s:
            lockout.ensure_unknown_can_sign_in(s, "ghost")

    ghost = answers(lambda: db.run(lambda s: lockout.record_unknown_failure(s, "ghost")), ghost_check)
    assert real == ghost
    assert any(isinstance(a, tuple) and a[3]["lock"] == "temporary" for a in real)
    assert any(isinstance(a, tuple) and a[3]["lock"] == "permanent" for a in real)


def test_unknown_customer_ids_are_refused(db):
    from atrium.identity.protection.errors import CustomerNotFound

    with pytest.raises(CustomerNotFound):
        db.run(lambda s: lockout.record_failure(s, "cus_nobody"))
