"""Rate limits: a sliding-window log in the database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from atrium.config import get_settings
from atrium.identity.protection import ratelimit
from atrium.identity.protection.errors import RateLimited
from atrium.identity.protection.models import RateBucket, RateHit
from atrium.kit.errors import AtriumError
from atrium.kit.ids import new_id


def _hit(db, key: str, limit: int = 3, window_s: int = 60) -> None:  # type: ignore[no-untyped-def]
    db.run(lambda s: ratelimit.hit(s, key, limit=limit, window_s=window_s))


def test_limit_hits_pass_then_429_with_the_wait(db, frozen):
    for _ in range(3):
        _hit(db, "login:ip:192.0.2.1")
        frozen.set(frozen.now() + timedelta(seconds=10))
    with pytest.raises(RateLimited) as refused:
        _hit(db, "login:ip:192.0.2.1")
    assert refused.value.status == 429 and refused.value.code == "rate-limited"
    # The first hit (30 s ago) leaves the 60 s window in 30 s.
    assert refused.value.retry_after == 30 and refused.value.extra["retry_after"] == 30
    frozen.set(frozen.now() + timedelta(seconds=29))
    with pytest.raises(RateLimited) as again:
        _hit(db, "login:ip:192.0.2.1")
    assert again.value.retry_after == 1
    frozen.set(frozen.now() + timedelta(seconds=1))
    _hit(db, "login:ip:192.0.2.1")  # exactly one window after the first hit: it no longer counts


def test_refused_hits_do_not_push_the_window(db, frozen):
    _hit(db, "k", limit=1, window_s=60)
    for _ in range(5):
        frozen.set(frozen.now() + timedelta(seconds=10))
        with pytest.raises(RateLimited):
            _hit(db, "k", limit=1, window_s=60)
    frozen.set(frozen.now() + timedelta(seconds=10))
    _hit(db, "k", limit=1, window_s=60)


def test_keys_are_counted_apart(db, frozen):
    _hit(db, "sms:ip:192.0.2.1", limit=1)
    _hit(db, "sms:ip:192.0.2.2", limit=1)
    with pytest.raises(RateLimited):
        _hit(db, "sms:ip:192.0.2.1", limit=1)


def test_bad_arguments_are_programming_errors(db):
    with db.session() as s:
        for kwargs in ({"limit": 0, "window_s": 1}, {"limit": 1, "window_s": 0}):
            with pytest.raises(ValueError):
                ratelimit.hit(s, "k", **kwargs)
        with pytest.raises(ValueError):
            ratelimit.hit(s, "x" * 201, limit=1, window_s=1)


def test_username_keys_hold_no_username():
    key = ratelimit.login_user_key("Mei.Wang ")
    assert "mei" not in key.lower() and key.startswith("login:user:")
    assert key == ratelimit.login_user_key("mei.wang")  # the same person however they type it
    assert ratelimit.login_ip_key("") == "login:ip:unknown"


def test_check_login_applies_the_configured_limits(db, frozen):
    p = get_settings().protection
    for n in range(p.login_user_limit):  # spread over addresses, so only the per-username limit bites
        db.run(lambda s, n=n: ratelimit.check_login(s, ip=f"192.0.2.{n}", username="mei"))
    with pytest.raises(RateLimited):
        db.run(lambda s: ratelimit.check_login(s, ip="198.51.100.1", username="Mei"))
    for n in range(p.login_ip_limit):  # one address, many usernames: the per-address limit bites
        db.run(lambda s, n=n: ratelimit.check_login(s, ip="203.0.113.5", username=f"user{n}"))
    with pytest.raises(RateLimited):
        db.run(lambda s: ratelimit.check_login(s, ip="203.0.113.5", username="someone-else"))
    for _ in range(p.sms_ip_limit):
        db.run(lambda s: ratelimit.check_sms(s, ip="192.0.2.9"))
    with pytest.raises(RateLimited) as refused:
        db.run(lambda s: ratelimit.check_sms(s, ip="192.0.2.9"))
    assert refused.value.retry_after == p.sms_ip_window_s


def test_record_count_and_clear(db, frozen):
    assert db.run(lambda s: ratelimit.record(s, "lockout:x", window_s=100)) == 1
    frozen.set(frozen.now() + timedelta(seconds=60))
    assert db.run(lambda s: ratelimit.record(s, "lockout:x", window_s=100)) == 2
    frozen.set(frozen.now() + timedelta(seconds=60))
    assert db.run(lambda s: ratelimit.count(s, "lockout:x", window_s=100)) == 1
    db.run(lambda s: ratelimit.clear(s, "lockout:x"))
    assert db.run(lambda s: ratelimit.count(s, "lockout:x", window_s=100)) == 0


def test_cleanup_deletes_what_left_its_window_only(db, frozen):
    _hit(db, "old", window_s=10)
    _hit(db, "live", window_s=3600)
    frozen.set(frozen.now() + timedelta(seconds=11))
    _hit(db, "old2", window_s=10)
    assert db.run(lambda s: ratelimit.cleanup(s)) == 1
    with db.read_session() as s:
        assert sorted(s.scalars(select(RateBucket.bucket))) == ["live", "old2"]
        assert s.scalar(select(func.count()).select_from(RateHit)) == 2
    from atrium.identity.protection import tasks

    frozen.set(frozen.now() + timedelta(hours=2))
    assert tasks.cleanup(db, batch=1) == (2, 0)  # in batches of one: the backlog still drains
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(RateBucket)) == 0


def test_concurrent_hits_never_pass_the_limit(db):
    """Threads stand in for processes: each hit is its own transaction on its own connection."""
    allowed, refused, errors = [], [], []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(3):
            try:
                _hit(db, "login:ip:198.51.100.7", limit=5, window_s=600)
                allowed.append(1)
            except RateLimited:
                refused.append(1)
            except AtriumError as exc:  # pragma: no cover - would be a bug
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(allowed) == 5 and len(refused) == 19


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(min_value=1, max_value=4),
    window_s=st.integers(min_value=1, max_value=30),
    gaps_ms=st.lists(st.integers(min_value=0, max_value=12_000), min_size=1, max_size=25),
)
def test_no_window_ever_holds_more_than_the_limit(db, frozen, limit, window_s, gaps_ms):
    key = f"prop:{new_id('k')}"
    window = timedelta(seconds=window_s)
    accepted = []
    at = frozen.now()
    for gap in gaps_ms:
        at += timedelta(milliseconds=gap)
        frozen.set(at)
        in_window = [a for a in accepted if a > at - window]
        try:
            _hit(db, key, limit=limit, window_s=window_s)
        except RateLimited as exc:
            # Refused only when the window is full, and `retry_after` is the first whole second that fits.
            assert len(in_window) >= limit
            later = at + timedelta(seconds=exc.retry_after)
            assert len([a for a in accepted if a > later - window]) < limit
            if exc.retry_after > 1:
                sooner = later - timedelta(seconds=1)
                assert len([a for a in accepted if a > sooner - window]) >= limit
        else:
            assert len(in_window) < limit
            accepted.append(at)
    for t in accepted:  # every window of `window_s` seconds, ending at any accepted hit
        assert len([a for a in accepted if t - window < a <= t]) <= limit
