"""The invariant on a real database: what check_and_reserve accepts in a period never sums above the
effective limit — for any sequence of payments and releases (hypothesis), and under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from atrium.limits import service
from atrium.limits.errors import LimitExceeded
from atrium.limits.models import UsageCounter
from tests.limits.factories import NOON, customer, yuan

DAY_START = datetime(2024, 5, 14, 16, 0, tzinfo=UTC)  # 00:00 on 15 May in Shanghai

steps = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "reserve", "reserve", "release"]),
        st.integers(min_value=1, max_value=yuan(6_000)),
        st.integers(min_value=0, max_value=3 * 24 * 3600 - 1),  # seconds into a three-day window
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, own_daily=st.none() | st.integers(min_value=0, max_value=yuan(15_000)))
def test_reserved_amounts_in_a_day_never_exceed_the_effective_daily_limit(db, steps, own_daily) -> None:  # type: ignore[no-untyped-def]
    """QR payments (bank: 5,000 per payment, 20,000 a day, 100,000 a month) with an optional lower own daily
    limit; the model tracks what is outstanding per Shanghai day and the database must agree with it."""
    with db.unit_of_work() as s:
        cus = customer(s)
        service.set_own_limit(s, customer_id=cus, method="qr_payment", per_transaction_minor=None,
                              daily_minor=own_daily)
    daily_limit = min(yuan(20_000), own_daily if own_daily is not None else yuan(20_000))
    outstanding: dict[str, int] = {}
    kw = {"customer_id": cus, "method": "qr_payment", "currency": "CNY"}
    for action, amount, offset in steps:
        at = DAY_START + timedelta(seconds=offset)
        day = (at + timedelta(hours=8)).date().isoformat()
        with db.unit_of_work() as s:
            if action == "release":
                service.release(s, amount_minor=amount, at=at, **kw)
                outstanding[day] = max(0, outstanding.get(day, 0) - amount)
                continue
            try:
                service.check_and_reserve(s, channel="mobile", amount_minor=amount, at=at, **kw)
            except LimitExceeded as exc:
                # Only a justified refusal: three days of 20,000 never reach the 100,000 monthly limit.
                if exc.limit == "per_transaction":
                    assert amount > yuan(5_000)
                else:
                    assert exc.limit == "daily"
                    assert outstanding.get(day, 0) + amount > daily_limit
                    assert exc.remaining_minor == max(0, daily_limit - outstanding.get(day, 0))
                continue
            outstanding[day] = outstanding.get(day, 0) + amount
        assert outstanding[day] <= daily_limit
    with db.read_session() as s:
        stored = dict(s.execute(
            select(UsageCounter.period_key, UsageCounter.used_minor)
            .where(UsageCounter.customer_id == cus, UsageCounter.period_kind == "day")
        ).all())
    assert {d: v for d, v in stored.items() if v} == {d: v for d, v in outstanding.items() if v}
    assert all(v <= daily_limit for v in stored.values())


def test_concurrent_payments_of_one_customer_never_overshoot_the_daily_limit(db) -> None:
    """8 threads × 5 payments of 700 yuan against an own daily limit of 10,000 yuan: exactly 14 fit. Without
    the counter row lock, payments reading the same `used` would all pass and the day would overshoot."""
    with db.unit_of_work() as s:
        cus = customer(s)
        service.set_own_limit(s, customer_id=cus, method="internal_transfer", per_transaction_minor=None,
                              daily_minor=yuan(10_000))
    start = threading.Barrier(8)
    accepted: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pay(session) -> None:  # type: ignore[no-untyped-def]
        service.check_and_reserve(session, customer_id=cus, channel="mobile", method="internal_transfer",
                                  amount_minor=yuan(700), currency="CNY", at=NOON)

    def worker() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(5):
                try:
                    db.run(pay)
                except LimitExceeded:
                    with lock:
                        refused.append(1)
                else:
                    with lock:
                        accepted.append(yuan(700))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(accepted) + len(refused) == 40
    assert sum(accepted) == yuan(9_800)  # 14 × 700: the 15th would exceed 10,000
    with db.read_session() as s:
        used = s.scalar(select(UsageCounter.used_minor).where(
            UsageCounter.customer_id == cus, UsageCounter.period_kind == "day"))
    assert used == yuan(9_800)
