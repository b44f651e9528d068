"""Pure recurrence rules of scheduled and standing orders: no SQLAlchemy, no FastAPI.

A rule yields occurrence dates by index (0, 1, 2, …):
- `once`: the start date, and nothing after;
- `weekly`: the start date, then every 7 days (the same weekday);
- `monthly`: day N of each month, clamped to the month's last day (N = 31 gives 30 April and 28 or 29
  February), from the first such date on or after the start date. Each month's date is computed from N,
  never from the previous date, so clamping in February does not drag March back to the 28th.
An optional end date (inclusive) and an optional count end the series, whichever comes first.

Dates are bank calendar days (Asia/Shanghai). Occurrences are strictly increasing, one per period, and
`due` hands them out in order from the first one not yet handled, so a late job catches up without
skipping or repeating a period.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

Frequency = Literal["once", "weekly", "monthly"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

MAX_OCCURRENCES = 1200  # a century of monthly payments
MAX_LEAD_DAYS = 366  # the first payment is at most a year away
MAX_SPAN_DAYS = 100 * 366  # and the last at most a hundred years after the first
SUSPEND_AFTER_FAILURES = 3  # consecutive failed occurrences before an order is suspended


class RuleBroken(ValueError):
    """A schedule the rules refuse; the service turns it into its typed error."""


@dataclass(frozen=True, slots=True)
class Recurrence:
    frequency: str
    start_on: date
    day_of_month: int | None = None  # monthly only
    end_on: date | None = None
    count: int | None = None


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def clamped(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or the month's last day if it is shorter."""
    return date(year, month, min(day, days_in_month(year, month)))


def _month_plus(year: int, month: int, k: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + k
    return total // 12, total % 12 + 1


def make_rule(
    frequency: str, start_on: date, *, today: date, day_of_month: int | None = None,
    end_on: date | None = None, count: int | None = None,
) -> Recurrence:
    """A checked rule, or RuleBroken saying what is wrong with the schedule."""
    if frequency not in FREQUENCIES:
        raise RuleBroken(f"frequency is one of {', '.join(FREQUENCIES)}")
    if start_on < today:
        raise RuleBroken("the first payment date cannot be in the past")
    if start_on > today + timedelta(days=MAX_LEAD_DAYS):
        raise RuleBroken(f"the first payment date is at most {MAX_LEAD_DAYS} days away")
    if frequency != "monthly" and day_of_month is not None:
        raise RuleBroken("day_of_month is for monthly orders only")
    if frequency == "once" and (end_on is not None or count is not None):
        raise RuleBroken("a one-off order has no end date or count")
    if frequency == "monthly":
        day_of_month = start_on.day if day_of_month is None else day_of_month
        if not 1 <= day_of_month <= 31:
            raise RuleBroken("day_of_month is 1 to 31 (31 means the month's last day)")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise RuleBroken(f"count is 1 to {MAX_OCCURRENCES}")
    rule = Recurrence(frequency, start_on, day_of_month, None, count)
    if end_on is not None:
        first = occurrence(rule, 0)
        assert first is not None
        if end_on < first:
            raise RuleBroken(f"the end date is before the first payment ({first.isoformat()})")
        if end_on > start_on + timedelta(days=MAX_SPAN_DAYS):
            raise RuleBroken("the end date is too far away")
        rule = Recurrence(frequency, start_on, day_of_month, end_on, count)
    return rule


def occurrence(rule: Recurrence, index: int) -> date | None:
    """The date of occurrence `index` (0-based), or None when the series has ended by then."""
    if index < 0:
        raise ValueError("occurrence index must not be negative")
    if rule.count is not None and index >= rule.count:
        return None
    try:
        if rule.frequency == "once":
            when = rule.start_on if index == 0 else None
        elif rule.frequency == "weekly":
            when = rule.start_on + timedelta(weeks=index)
        elif rule.frequency == "monthly":
            dom = rule.day_of_month or rule.start_on.day
            start = rule.start_on
            skip = 0 if clamped(start.year, start.month, dom) >= start else 1
            year, month = _month_plus(start.year, start.month, skip + index)
            when = clamped(year, month, dom) if 1 <= year <= 9999 else None
        else:
            raise ValueError(f"unknown frequency {rule.frequency!r}")
    except OverflowError:  # past date.max: the series has run out of calendar
        return None
    if when is not None and rule.end_on is not None and when > rule.end_on:
        return None
    return when


def due(rule: Recurrence, next_index: int, today: date, *, limit: int = 100) -> list[tuple[int, date]]:
    """The occurrences not yet handled (from `next_index`) whose date is today or earlier, in order, at
    most `limit` of them (the rest are handed out on the next call)."""
    out: list[tuple[int, date]] = []
    index = next_index
    while len(out) < limit:
        when = occurrence(rule, index)
        if when is None or when > today:
            break
        out.append((index, when))
        index += 1
    return out


def after_failure(consecutive_failures: int) -> tuple[int, bool]:
    """(new consecutive failure count, whether the order is now suspended)."""
    failures = consecutive_failures + 1
    return failures, failures >= SUSPEND_AFTER_FAILURES


def idempotency_key(order_id: str, occurrence_on: date) -> str:
    """The transfer key of one occurrence: the same occurrence can never be paid twice."""
    return f"order:{order_id}:{occurrence_on.isoformat()}"
