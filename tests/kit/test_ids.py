"""Ids: prefixed, ULID-sized, unique, and sorted in creation order (within a process)."""

from __future__ import annotations

import re
import threading
import time

from atrium.kit import ids
from atrium.kit.ids import new_id

SHAPE = re.compile(r"^txn_[0-9A-HJKMNP-TV-Z]{26}$")


def test_shape() -> None:
    assert SHAPE.match(new_id("txn"))


def test_ids_made_in_a_burst_are_unique_and_ordered() -> None:
    # Thousands of ids fall into the same millisecond: they must still sort in the order they were made.
    made = [new_id("txn") for _ in range(20_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)


def test_ids_across_milliseconds_are_ordered() -> None:
    first = new_id("acct")
    time.sleep(0.003)
    second = new_id("acct")
    assert first < second
    assert first[5:15] < second[5:15]  # the time part itself moved on


def test_ids_stay_ordered_when_the_wall_clock_steps_back(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = new_id("evt")
    real = time.time_ns
    monkeypatch.setattr(ids.time, "time_ns", lambda: real() - 60 * 10**9)  # NTP stepped back a minute
    after = [new_id("evt") for _ in range(100)]
    assert [before, *after] == sorted([before, *after])
    assert len(set(after)) == 100


def test_ids_are_unique_across_threads() -> None:
    out: list[list[str]] = [[] for _ in range(8)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id("cus") for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for b in out for i in b]
    assert len(set(every)) == len(every)
    for bucket in out:  # each thread's own ids are in its creation order
        assert bucket == sorted(bucket)


def test_the_random_part_differs_between_milliseconds() -> None:
    a = new_id("x")
    time.sleep(0.002)
    b = new_id("x")
    assert a[-16:] != b[-16:]
