"""Payments fixtures: a frozen clock at Shanghai noon, two customers with funded accounts, a quiet rail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from atrium.accounts.schemas import DepositAccountRead
from atrium.db.session import Database
from atrium.kit import clock
from atrium.kit.clock import FrozenClock
from atrium.payments import rail as rail_module
from atrium.payments.rail.simulated import SimulatedRail
from tests.payments import factories as f


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    fc = FrozenClock(f.NOON)
    previous = clock.use(fc)
    yield fc
    clock.use(previous)


@pytest.fixture()
def rail(db: Database) -> Iterator[SimulatedRail]:
    r = f.quiet_rail(db)
    rail_module.use_rail(db, r)
    yield r
    rail_module.use_rail(db, None)


@dataclass(frozen=True)
class World:
    alice: str
    bob: str
    alice_cny: DepositAccountRead  # 1,000.00 CNY
    alice_savings: DepositAccountRead  # empty CNY savings
    alice_usd: DepositAccountRead  # 100.00 USD
    bob_cny: DepositAccountRead  # empty

    def ids(self) -> list[str]:
        return [self.alice_cny.id, self.alice_savings.id, self.alice_usd.id, self.bob_cny.id]


@pytest.fixture()
def world(db: Database) -> World:
    with db.unit_of_work() as s:
        alice = f.customer(s, display_name="Alice Wang")
        bob = f.customer(s, display_name="张三")
        w = World(
            alice=alice,
            bob=bob,
            alice_cny=f.account(s, alice, funds=100_000),
            alice_savings=f.account(s, alice, product="savings"),
            alice_usd=f.account(s, alice, currency="USD", funds=10_000),
            bob_cny=f.account(s, bob),
        )
    return w
