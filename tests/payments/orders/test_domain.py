"""Recurrence rules, checked by example and by property (hypothesis): dates strictly increase, no
period is skipped or repeated, monthly dates clamp to the month's end, and `due` hands each occurrence
out exactly once however irregularly the job runs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.payments.orders import domain
from atrium.payments.orders.domain import Recurrence, RuleBroken, make_rule, occurrence

TODAY = date(2024, 5, 15)

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
rules = st.one_of(
    st.builds(
        Recurrence, frequency=st.just("weekly"), start_on=starts, count=st.none() | st.integers(1, 300)
    ),
    st.builds(
        Recurrence,
        frequency=st.just("monthly"),
        start_on=starts,
        day_of_month=st.integers(1, 31),
        count=st.none() | st.integers(1, 300),
    ),
)


def _series(rule: Recurrence, n: int = 60) -> list[date]:
    out = []
    for i in range(n):
        d = occurrence(rule, i)
        if d is None:
            break
        out.append(d)
    return out


def _months(d: date) -> int:
    return d.year * 12 + d.month


def test_monthly_on_the_31st_clamps_to_each_months_end() -> None:
    rule = make_rule("monthly", date(2024, 1, 31), today=date(2024, 1, 1))
    assert _series(rule, 5) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    non_leap = Recurrence("monthly", date(2023, 2, 1), day_of_month=30)
    assert _series(non_leap, 2) == [date(2023, 2, 28), date(2023, 3, 30)]


def test_a_monthly_day_already_past_this_month_starts_next_month() -> None:
    assert _series(make_rule("monthly", TODAY, today=TODAY, day_of_month=10), 2) == [
        date(2024, 6, 10),
        date(2024, 7, 10),
    ]
    assert occurrence(make_rule("monthly", TODAY, today=TODAY, day_of_month=15), 0) == TODAY


def test_once_weekly_count_and_end_date() -> None:
    once = make_rule("once", date(2024, 6, 1), today=TODAY)
    assert _series(once) == [date(2024, 6, 1)]
    weekly = make_rule("weekly", TODAY, today=TODAY, count=3)
    assert _series(weekly) == [TODAY, TODAY + timedelta(7), TODAY + timedelta(14)]
    ending = make_rule("monthly", TODAY, today=TODAY, end_on=date(2024, 8, 14))
    assert _series(ending) == [date(2024, 5, 15), date(2024, 6, 15), date(2024, 7, 15)]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("daily", TODAY), {}),
        (("once", TODAY - timedelta(1)), {}),
        (("once", TODAY + timedelta(400)), {}),
        (("once", TODAY), {"count": 2}),
        (("once", TODAY), {"end_on": TODAY}),
        (("weekly", TODAY), {"day_of_month": 3}),
        (("monthly", TODAY), {"day_of_month": 32}),
        (("monthly", TODAY), {"day_of_month": 0}),
        (("monthly", TODAY), {"count": 0}),
        (("monthly", TODAY), {"count": domain.MAX_OCCURRENCES + 1}),
        (("monthly", TODAY), {"day_of_month": 10, "end_on": date(2024, 6, 9)}),
        (("weekly", TODAY), {"end_on": date(9999, 12, 31)}),
    ],
)
def test_bad_schedules_are_refused(args, kwargs) -> None:
    with pytest.raises(RuleBroken):
        make_rule(*args, today=TODAY, **kwargs)


@settings(max_examples=300, deadline=None)
@given(rules)
def test_dates_strictly_increase_one_per_period(rule: Recurrence) -> None:
    dates = _series(rule)
    assert dates and dates[0] >= rule.start_on
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    if rule.frequency == "weekly":
        assert all((b - a).days == 7 for a, b in zip(dates, dates[1:], strict=False))
    else:
        dom = rule.day_of_month or rule.start_on.day
        # Never a month skipped or repeated, and each date is day N clamped to the month's length.
        assert all(_months(b) - _months(a) == 1 for a, b in zip(dates, dates[1:], strict=False))
        assert all(d.day == min(dom, domain.days_in_month(d.year, d.month)) for d in dates)
        # The first date is the first such day on or after the start: not a month late.
        assert _months(dates[0]) - _months(rule.start_on) in (0, 1)
        if _months(dates[0]) != _months(rule.start_on):
            assert min(dom, domain.days_in_month(rule.start_on.year, rule.start_on.month)) < rule.start_on.day


@settings(max_examples=200, deadline=None)
@given(rules, st.integers(1, 80))
def test_count_and_end_date_end_the_series(rule: Recurrence, cut: int) -> None:
    full = _series(Recurrence(rule.frequency, rule.start_on, rule.day_of_month), 90)
    counted = _series(Recurrence(rule.frequency, rule.start_on, rule.day_of_month, count=cut), 90)
    assert counted == full[:cut]
    end = full[min(cut, len(full)) - 1]
    ended = _series(Recurrence(rule.frequency, rule.start_on, rule.day_of_month, end_on=end), 90)
    assert ended == [d for d in full if d <= end]


@settings(max_examples=200, deadline=None)
@given(rules, st.lists(st.integers(0, 120), min_size=1, max_size=25), st.integers(1, 5))
def test_due_hands_out_each_occurrence_once_however_the_job_runs(rule, gaps, limit) -> None:
    """The job runs on irregular days (gaps, late runs, several runs a day) and handles at most `limit`
    occurrences per run; what it pays is exactly the series up to its last run, in order."""
    handled: list[tuple[int, date]] = []
    next_index, day = 0, rule.start_on - timedelta(days=3)
    for gap in gaps:
        day += timedelta(days=gap)
        for index, when in domain.due(rule, next_index, day, limit=limit):
            assert index == next_index and when <= day
            handled.append((index, when))
            next_index = index + 1
    # Catch up completely on the last day, as repeated runs would.
    while batch := domain.due(rule, next_index, day, limit=limit):
        handled += batch
        next_index = batch[-1][0] + 1
    expected = [(i, d) for i, d in enumerate(_series(rule, next_index + 1)) if d <= day]
    assert handled == expected
    later = occurrence(rule, next_index)
    assert later is None or later > day


def test_after_failure_suspends_on_the_third_in_a_row() -> None:
    assert domain.after_failure(0) == (1, False)
    assert domain.after_failure(1) == (2, False)
    assert domain.after_failure(2) == (3, True)


def test_the_idempotency_key_names_the_order_and_the_date() -> None:
    assert domain.idempotency_key("sto_X", date(2024, 2, 29)) == "order:sto_X:2024-02-29"


def test_the_calendar_running_out_ends_the_series() -> None:
    assert occurrence(Recurrence("weekly", date(9999, 12, 25)), 1) is None
    assert occurrence(Recurrence("monthly", date(9999, 12, 1), day_of_month=1), 1) is None
    with pytest.raises(ValueError):
        occurrence(Recurrence("weekly", TODAY), -1)
