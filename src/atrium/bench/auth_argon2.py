"""What an argon2id password check costs on this machine, for a few parameter sets (part of `bench auth`).

For each set: the median wall time of one hash and one verify (one at a time, nothing else running in this
process), and how many verifies per second `threads` threads sustain together (argon2-cffi releases the GIL,
so on a two-core machine two threads are the whole machine's budget for password checks). That throughput
is the ceiling on password sign-ins per second that the parameters allow, before any other work of a
sign-in.

The production row is the parameters read back from a hash the bench *server* wrote (see `bench.auth`), not
the ones the module is thought to have: the figure belongs to what the server really does.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from argon2 import Parameters, PasswordHasher, Type, extract_parameters

from atrium.bench.load import run_closed_loop
from atrium.identity import passwords

MIB = 1024  # argon2 counts memory in KiB


@dataclass(frozen=True)
class ParameterSet:
    name: str
    time_cost: int
    memory_kib: int
    parallelism: int
    note: str

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_kib,
                              parallelism=self.parallelism, type=Type.ID)


CANDIDATES = (
    ParameterSet("owasp-minimum", 2, 19 * MIB, 1, "OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1"),
    ParameterSet("rfc9106-second", 3, 64 * MIB, 4,
                 "RFC 9106 §4, second recommended option: t=3, m=64 MiB, p=4"),
    ParameterSet("heavier", 4, 128 * MIB, 2, "twice the memory and a third more passes than production"),
)


def from_hash(encoded: str, name: str = "production") -> ParameterSet:
    p: Parameters = extract_parameters(encoded)
    if p.type is not Type.ID:
        raise ValueError(f"the production hash is not argon2id: {p.type}")
    return ParameterSet(name, p.time_cost, p.memory_cost, p.parallelism,
                        "atrium.identity.passwords, read back from a hash the bench server wrote")


def _median_ms(fn: Any, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(samples)


def measure(ps: ParameterSet, *, repeats: int, seconds: float, threads: int) -> dict[str, Any]:
    hasher = ps.hasher()
    password = "bench password, loopback only"  # noqa: S105 - a throwaway password
    encoded = hasher.hash(password)
    hash_ms = _median_ms(lambda: hasher.hash(password), repeats)
    verify_ms = _median_ms(lambda: hasher.verify(encoded, password), repeats)
    load = run_closed_loop(threads, lambda _k, _s: hasher.verify(encoded, password), seconds=seconds,
                           warmup=min(0.5, seconds / 4))
    return {
        "name": ps.name, "time_cost": ps.time_cost, "memory_mib": ps.memory_kib // MIB,
        "parallelism": ps.parallelism, "note": ps.note, "hash_ms": round(hash_ms, 1),
        "verify_ms": round(verify_ms, 1), "threads": threads,
        "verifies_per_s": round(load.per_second, 1),
        "verify_p99_ms_under_load": round(load.p99_ms or 0.0, 1),
        "memory_at_40_concurrent_mib": 40 * ps.memory_kib // MIB,
    }


def unknown_username_verify_ms(repeats: int = 50) -> float:
    """The check a sign-in with an unknown username pays (the module's dummy hash): it should cost what a
    known username's does, or the answer time tells a caller which usernames exist."""
    return round(_median_ms(lambda: passwords.verify_password(None, "not the password"), repeats), 3)


def run(production_hash: str, *, repeats: int = 7, seconds: float = 2.0, threads: int = 2) -> dict[str, Any]:
    production = from_hash(production_hash)
    sets = [production, *(c for c in CANDIDATES if
                         (c.time_cost, c.memory_kib, c.parallelism) !=
                         (production.time_cost, production.memory_kib, production.parallelism))]
    rows = [measure(ps, repeats=repeats, seconds=seconds, threads=threads) for ps in sets]
    return {
        "production": {"time_cost": production.time_cost, "memory_mib": production.memory_kib // MIB,
                       "parallelism": production.parallelism, "type": "argon2id"},
        "parameter_sets": rows,
        "unknown_username_verify_ms": unknown_username_verify_ms(),
    }
