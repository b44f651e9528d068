"""One entity's history: event times with prefix sums of amounts, and the frauds whose labels arrived.

Times are kept sorted (appends in the common in-order case; an insertion when an event is late), so a
window `(a, b]` is two bisects and a subtraction of prefix sums. Frauds are rare: a short sorted list of
event times with the time each label arrived and the fraud's amount, filtered by arrival when read.

The columns are `array('d')`, not lists: the garbage collector neither tracks nor walks them, so a full
collection does not pause the decision path for every float the state holds.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from typing import Final


class Series:
    __slots__ = ("times", "amounts", "cum", "cum_sq", "fraud_times", "fraud_arrivals", "fraud_amounts",
                 "fraud_habits")

    def __init__(self) -> None:
        self.times = array("d")
        self.amounts = array("d")
        self.cum = array("d", (0.0,))  # cum[i] = sum of amounts[:i]
        self.cum_sq = array("d", (0.0,))
        # Most entities never see a fraud: the arrays are made on the first one.
        self.fraud_times: array[float] | tuple[()] = ()
        self.fraud_arrivals: array[float] | tuple[()] = ()
        self.fraud_amounts: array[float] | tuple[()] = ()
        self.fraud_habits: array[float] | tuple[()] = ()  # each fraud's amount ÷ its payer's usual (NaN)

    # ---- windows ---------------------------------------------------------------------------------------
    def upto(self, t: float) -> int:
        """How many events happened at or before `t` (a window `(a, b]` is `upto(b) - upto(a)`)."""
        return bisect_right(self.times, t)

    def before(self, t: float) -> float | None:
        """The time of the latest event strictly before `t`."""
        i = bisect_left(self.times, t)
        return self.times[i - 1] if i else None

    def sum(self, lo: int, hi: int) -> float:
        return self.cum[hi] - self.cum[lo]

    def sum_sq(self, lo: int, hi: int) -> float:
        return self.cum_sq[hi] - self.cum_sq[lo]

    def order_stats(self, lo: int, hi: int, mid: int,
                    without: float | None = None) -> tuple[float, float, float]:
        """(median, max) of amounts[lo:hi] and the max of amounts[mid:hi] (lo <= mid <= hi: a shorter window
        ending at the same place), each leaving out one occurrence of `without` (the event itself, the
        latest amount); NaN for an empty window. One sort serves the median and the maximum."""
        nan = float("nan")
        values = sorted(self.amounts[lo:hi])
        if without is not None and without in values:
            values.remove(without)
        n = len(values)
        if not n:
            return nan, nan, nan
        half = n // 2
        median = values[half] if n % 2 else (values[half - 1] + values[half]) / 2
        recent = list(self.amounts[mid:hi])
        if without is not None and without in recent:
            recent.remove(without)
        return median, values[-1], max(recent) if recent else nan

    def count_above(self, lo: int, hi: int, cut: float, without: float | None = None) -> int:
        """How many of amounts[lo:hi] exceed `cut`, leaving out one occurrence of `without` (as in
        `order_stats`)."""
        n = sum(1 for a in self.amounts[lo:hi] if a > cut)
        return n - 1 if without is not None and without > cut and n else n

    def frauds_between(self, a: float, b: float, known_at: float) -> tuple[int, float]:
        """How many frauds of events in `(a, b]` had their label arrive by `known_at`, and their amounts'
        sum."""
        lo, hi = bisect_right(self.fraud_times, a), bisect_right(self.fraud_times, b)
        arrivals, amounts = self.fraud_arrivals, self.fraud_amounts
        n, total = 0, 0.0
        for i in range(lo, hi):
            if arrivals[i] <= known_at:
                n += 1
                total += amounts[i]
        return n, total

    def fraud_habit_mean(self, a: float, b: float, known_at: float) -> float:
        """The mean of the `habit`s of the frauds of events in `(a, b]` whose label arrived by `known_at`
        (those with one: a payer with a history); NaN if there are none."""
        lo, hi = bisect_right(self.fraud_times, a), bisect_right(self.fraud_times, b)
        arrivals, habits = self.fraud_arrivals, self.fraud_habits
        n, total = 0, 0.0
        for i in range(lo, hi):
            habit = habits[i]
            if arrivals[i] <= known_at and habit == habit:
                n += 1
                total += habit
        return total / n if n else math.nan

    def last_fraud(self, known_at: float, since: float = -math.inf) -> float | None:
        """Event time of the latest fraud in `[since, known_at]` whose label had arrived by `known_at`."""
        i = bisect_right(self.fraud_times, known_at)
        while i:
            i -= 1
            if self.fraud_times[i] < since:
                return None
            if self.fraud_arrivals[i] <= known_at:
                return self.fraud_times[i]
        return None

    def first_fraud(self, known_at: float, since: float = -math.inf) -> float | None:
        """Event time of the earliest fraud at or after `since` whose label had arrived by `known_at`."""
        start = bisect_left(self.fraud_times, since)
        for t, arrived in zip(self.fraud_times[start:], self.fraud_arrivals[start:], strict=True):
            if t > known_at:
                break
            if arrived <= known_at:
                return t
        return None

    # ---- writing ---------------------------------------------------------------------------------------
    def add(self, t: float, amount: float) -> None:
        times = self.times
        if not times or t >= times[-1]:
            times.append(t)
            self.amounts.append(amount)
            self.cum.append(self.cum[-1] + amount)
            self.cum_sq.append(self.cum_sq[-1] + amount * amount)
            return
        i = bisect_right(times, t)  # a late event: insert in place and redo the prefix sums after it
        times.insert(i, t)
        self.amounts.insert(i, amount)
        self._rebuild_from(i)

    def _rebuild_from(self, i: int) -> None:
        del self.cum[i + 1:]
        del self.cum_sq[i + 1:]
        for a in self.amounts[i:]:
            self.cum.append(self.cum[-1] + a)
            self.cum_sq.append(self.cum_sq[-1] + a * a)

    def add_fraud(self, event_at: float, arrived_at: float, amount: float, habit: float = math.nan) -> None:
        if not self.fraud_times:
            self.fraud_times, self.fraud_arrivals, self.fraud_amounts = array("d"), array("d"), array("d")
            self.fraud_habits = array("d")
        i = bisect_right(self.fraud_times, event_at)
        self.fraud_times.insert(i, event_at)  # type: ignore[union-attr]
        self.fraud_arrivals.insert(i, arrived_at)  # type: ignore[union-attr]
        self.fraud_amounts.insert(i, amount)  # type: ignore[union-attr]
        self.fraud_habits.insert(i, habit)  # type: ignore[union-attr]

    def remove_fraud(self, event_at: float) -> None:
        i = bisect_left(self.fraud_times, event_at)
        if i < len(self.fraud_times) and self.fraud_times[i] == event_at:
            del self.fraud_times[i]  # type: ignore[union-attr]
            del self.fraud_arrivals[i]  # type: ignore[union-attr]
            del self.fraud_amounts[i]  # type: ignore[union-attr]
            del self.fraud_habits[i]  # type: ignore[union-attr]

    def evict_before(self, ts: float) -> bool:
        """Drop events and frauds before `ts`; True when nothing is left."""
        k = bisect_left(self.times, ts)
        if k:
            del self.times[:k]
            del self.amounts[:k]
            # Re-base the prefix sums at zero so they do not grow (and lose precision) over months.
            base, base_sq = self.cum[k], self.cum_sq[k]
            self.cum = array("d", [c - base for c in self.cum[k:]])
            self.cum_sq = array("d", [c - base_sq for c in self.cum_sq[k:]])
        f = bisect_left(self.fraud_times, ts)
        if f:
            del self.fraud_times[:f]  # type: ignore[union-attr]
            del self.fraud_arrivals[:f]  # type: ignore[union-attr]
            del self.fraud_amounts[:f]  # type: ignore[union-attr]
            del self.fraud_habits[:f]  # type: ignore[union-attr]
        return not self.times and not self.fraud_times


class _Empty(Series):
    """The history of an entity never seen: shared and read-only (the hot path needs no None checks)."""

    def add(self, t: float, amount: float) -> None:  # pragma: no cover - guard
        raise TypeError("EMPTY is read-only")


EMPTY: Final = _Empty()
