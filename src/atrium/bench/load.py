"""Closed-loop load: N client threads, each issuing one operation after another for a fixed time.

Throughput counts the operations that *completed* inside the measured window (after a warm-up that fills
caches and connection pools and brings the clients to a steady state); latency is each of those operations'
own wall time, start to answer. A failed
operation is counted as an error and never as throughput. The window closes after `seconds`, or later at
the first finished operation when none finished in time (`bench.window.still_open`), and the rate is taken
over the time it was really open.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from atrium.bench.window import still_open

# An operation takes (client index, sequence number within the client) and returns nothing.
Operation = Callable[[int, int], object]


@dataclass
class LoadResult:
    completed: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    first_error: str | None = None

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies_ms, 99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation): the value below which q % of the samples fall."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))  # ceil(q/100 · n), at least 1
    return ordered[min(rank, len(ordered)) - 1]


def run_closed_loop(
    clients: int, operation: Operation, *, seconds: float, warmup: float = 0.5,
    on_tick: Callable[[float], None] | None = None,
) -> LoadResult:
    """Run `clients` threads that call `operation` back to back; measure `seconds` after `warmup`."""
    stop = threading.Event()
    t0 = time.perf_counter()
    window = (t0 + warmup, t0 + warmup + seconds)
    samples: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    first_error: list[str] = []

    def client(k: int) -> None:
        seq = 0
        lat = samples[k]
        while not stop.is_set():
            start = time.perf_counter()
            try:
                operation(k, seq)
            except Exception as exc:  # a benchmark reports failures, it does not stop on them
                if window[0] <= time.perf_counter() and not stop.is_set():
                    errors[k] += 1
                if not first_error:
                    first_error.append(f"{type(exc).__name__}: {exc}")
            else:
                end = time.perf_counter()
                if window[0] <= end and not stop.is_set():
                    lat.append((end - start) * 1000.0)
            seq += 1

    threads = [threading.Thread(target=client, args=(k,), name=f"bench-client-{k}", daemon=True)
               for k in range(clients)]
    for t in threads:
        t.start()
    def finished() -> int:
        return sum(map(len, samples)) + sum(errors)

    while still_open(now := time.perf_counter(), window[0], seconds, finished()):
        time.sleep(min(0.1, window[1] - now) if now < window[1] else 0.02)
        if on_tick:
            on_tick(min(1.0, max(0.0, (now - window[0]) / seconds)))
    stop.set()
    elapsed = time.perf_counter() - window[0]
    for t in threads:
        t.join(60)
    latencies = [x for per in samples for x in per]
    return LoadResult(completed=len(latencies), errors=sum(errors), seconds=elapsed,
                      latencies_ms=latencies, first_error=first_error[0] if first_error else None)


class AccountChooser:
    """Which two accounts a transfer moves money between.

    - `uniform`: any two distinct accounts.
    - `hotspot`: half the transfers involve one of the first `hot` accounts (10 by default), in a random
      direction, against a uniformly chosen other account; the other half are uniform among the rest.
      So 10 accounts take half the traffic — a payroll account, a merchant, a bank's own account.
    """

    def __init__(self, n_accounts: int, workload: str, *, hot: int = 10, seed: int = 1) -> None:
        if workload not in ("uniform", "hotspot"):
            raise ValueError(f"unknown workload {workload!r}")
        if n_accounts < hot + 2:
            raise ValueError("need more accounts than hot accounts")
        self.n, self.workload, self.hot = n_accounts, workload, hot
        self._local = threading.local()
        self._seed = seed

    def _rng(self) -> random.Random:
        rng = getattr(self._local, "rng", None)
        if rng is None:
            rng = self._local.rng = random.Random(f"{self._seed}:{threading.get_ident()}")
        return rng

    def pair(self) -> tuple[int, int]:
        rng = self._rng()
        if self.workload == "uniform":
            a, b = rng.sample(range(self.n), 2)
            return a, b
        if rng.random() < 0.5:
            h = rng.randrange(self.hot)
            o = rng.randrange(self.hot, self.n)
            return (h, o) if rng.random() < 0.5 else (o, h)
        a, b = rng.sample(range(self.hot, self.n), 2)
        return a, b

    def amount(self) -> int:
        return self._rng().randint(1, 10_000)
