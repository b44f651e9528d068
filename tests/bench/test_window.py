"""The measured window of a load phase: it never reports a working server's rate as zero because the
machine was slow, and every rate is taken over the time it was really open."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from atrium.bench.load import run_closed_loop
from atrium.bench.window import Window, still_open


class _Ticks:
    def __init__(self) -> None:
        self.fractions: list[float] = []

    def tick(self, fraction: float) -> None:
        self.fractions.append(fraction)


async def _closed_loop(window: Window, took: float, workers: int = 2) -> tuple[int, int]:
    """Workers that each take `took` seconds per request; returns (counted, issued)."""
    loop = asyncio.get_running_loop()
    counted = issued = 0

    async def worker() -> None:
        nonlocal counted, issued
        while not window.closed:
            issued += 1
            await asyncio.sleep(took)
            counted += window.measures(loop.time())

    await asyncio.gather(window.clock(time.process_time, _Ticks()), *(worker() for _ in range(workers)))
    return counted, issued


def test_a_fast_phase_closes_on_time_and_counts_what_finished_inside() -> None:
    async def go() -> tuple[Window, int, int]:
        window = Window(0.05, 0.3)
        counted, issued = await _closed_loop(window, took=0.01)
        return window, counted, issued

    window, counted, issued = asyncio.run(go())
    assert 0.3 <= window.elapsed < 0.6
    assert 0 < counted < issued  # the warm-up's requests are not counted
    assert window.finished == counted


def test_a_phase_whose_requests_outlast_it_waits_for_the_first_and_says_how_long_it_was_open() -> None:
    async def go() -> tuple[Window, int]:
        window = Window(0.0, 0.1)
        counted, _ = await _closed_loop(window, took=0.4, workers=1)
        return window, counted

    window, counted = asyncio.run(go())
    assert counted == 1
    assert 0.4 <= window.elapsed < 1.0  # past its 0.1 s, closed at the first finished request


def test_a_window_gives_up_after_its_grace_when_nothing_finishes() -> None:
    async def go() -> Window:
        window = Window(0.0, 0.05, grace=0.1)
        stuck = asyncio.get_running_loop().create_future()
        await asyncio.gather(window.clock(time.process_time, _Ticks()),
                             asyncio.wait_for(stuck, timeout=0.5), return_exceptions=True)
        return window

    window = asyncio.run(go())
    assert window.closed and window.finished == 0
    assert 0.15 <= window.elapsed < 0.45


@given(start=st.floats(0, 100), seconds=st.floats(0.01, 10), grace=st.floats(0, 10),
       finished=st.integers(0, 3), offset=st.floats(-5, 30))
def test_the_rule_is_open_for_its_time_then_only_while_nothing_has_finished(
        start: float, seconds: float, grace: float, finished: int, offset: float) -> None:
    now = start + offset
    is_open = still_open(now, start, seconds, finished, grace)
    if now < start + seconds:
        assert is_open
    elif finished:
        assert not is_open
    else:
        assert is_open == (now < start + seconds + grace)


def test_threaded_closed_loop_waits_for_a_slow_first_operation() -> None:
    result = run_closed_loop(1, lambda k, seq: time.sleep(0.3), seconds=0.05, warmup=0.0)
    assert result.completed == 1 and result.errors == 0
    assert result.seconds >= 0.3
    assert result.per_second < 1 / 0.3 + 0.01  # over the time it was open, not the 0.05 s asked for
