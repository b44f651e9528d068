"""A deterministic synthetic bank history for the cold-start model (`registry.bootstrap_model`).

A fresh install has no labelled history, and shipping a trained binary would hide what the model learned
from. Instead this module generates a small history by code — the same for the same seed — and the model
is trained on it through the real feature code (`FeatureState`, labels arriving late). It is a cold-start
model: it knows generic fraud typologies, not this bank's customers, and `risk.retrain` replaces it with
challengers trained on the bank's own labels.

The world: customers with a home city, one or two devices and IPs, a card and an account, their own
habitual payees and merchants, a typical amount and a daily rhythm (mostly daytime); now and then a
genuine novelty (a new payee, a new phone, a trip). Fraud follows three common typologies, none of them a
fixed threshold: account takeover (a new device and IP far from home, a burst of transfers to mule payees
that several victims share, often at night), a stolen card used at merchants the card never visited, and
mule accounts collecting from many customers. Fraud labels arrive 1–10 days late; the rest is genuine.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.features import FEATURE_NAMES, FeatureState, payer_habit
from atrium.risk.schemas import TrainingSet

DAY: Final = 86400.0
START: Final = 1_704_067_200.0  # 2024-01-01 00:00 UTC: any fixed date (features are relative)
UTC_OFFSET_S: Final = 8 * 3600.0
CITIES: Final = ((31.23, 121.47), (39.90, 116.41), (23.13, 113.26), (30.57, 104.07), (22.54, 114.06))
CUSTOMERS: Final = 150
DAYS: Final = 28
PARAMS: Final = {"n_estimators": 100, "num_leaves": 15, "min_child_samples": 30, "learning_rate": 0.05}


@dataclass
class _Customer:
    index: int
    city: tuple[float, float]
    devices: list[str]
    ips: list[str]
    payees: list[str]
    merchants: list[str]
    typical: float  # major units
    rate: float  # events a day

    @property
    def id(self) -> str:
        return f"syn-c{self.index}"


@dataclass
class History:
    start: float
    days: int
    customers: int
    events: list[tuple[RiskEvent, bool]] = field(default_factory=list)
    X: np.ndarray = field(default_factory=lambda: np.zeros((0, len(FEATURE_NAMES))))

    def training_set(self) -> TrainingSet:
        y = np.asarray([int(fraud) for _, fraud in self.events], dtype=np.int64)
        return TrainingSet(feature_names=FEATURE_NAMES, X=self.X, y=y,
                           decision_ids=tuple(e.event_id for e, _ in self.events))


class _World:
    def __init__(self, rng: random.Random, customers: int, days: int) -> None:
        self.rng, self.days = rng, days
        self.merchants = [(f"syn-t{j}", CITIES[j % len(CITIES)]) for j in range(40 * len(CITIES))]
        self.mules = [f"syn-mule{k}" for k in range(12)]
        self.people = [self._customer(i) for i in range(customers)]
        self.events: list[tuple[RiskEvent, bool]] = []
        self._n = 0

    def _customer(self, i: int) -> _Customer:
        rng = self.rng
        city = rng.randrange(len(CITIES))
        local = [m for m, place in self.merchants if place == CITIES[city]]
        return _Customer(
            index=i, city=CITIES[city], devices=[f"syn-d{i}-0"], ips=[f"syn-ip{i}-0", f"syn-ip{i}-1"],
            payees=[f"syn-p{i}-{k}" for k in range(rng.randint(2, 7))], merchants=rng.sample(local, 8),
            typical=math.exp(rng.uniform(math.log(20), math.log(1500))), rate=rng.uniform(0.3, 3.0),
        )

    def _add(self, person: _Customer, at: float, channel: str, amount: float, fraud: bool, *,
             payee: str | None = None, terminal: str | None = None, device: str | None = None,
             ip: str | None = None, place: tuple[float, float] | None = None, card: bool = False) -> None:
        self._n += 1
        lat, lon = place or person.city
        # App events carry a location only when the customer allowed it; card terminals always have one.
        located = terminal is not None or self.rng.random() < 0.5
        self.events.append((RiskEvent(
            event_id=f"syn-e{self._n}", at=at, channel=channel, amount_minor=max(1, int(amount * 100)),
            customer=person.id, card=f"syn-card{person.index}" if card else None,
            account=None if card else f"syn-a{person.index}", device=device, payee=payee, terminal=terminal,
            ip=ip, lat=lat + self.rng.gauss(0, 0.03) if located else None,
            lon=lon + self.rng.gauss(0, 0.03) if located else None), fraud))

    def _moment(self, day: int, night: bool = False) -> float:
        hour = self.rng.uniform(0, 6) if night else min(23.99, max(6.0, self.rng.gauss(14, 4)))
        return START + day * DAY + hour * 3600 - UTC_OFFSET_S

    def genuine(self, person: _Customer) -> None:
        rng = self.rng
        trip = rng.randrange(self.days) if rng.random() < 0.15 else -10  # a few days in another city
        away = CITIES[(CITIES.index(person.city) + 1 + rng.randrange(len(CITIES) - 1)) % len(CITIES)]
        hotel_ip = f"syn-ip{person.index}-trip"
        for day in range(self.days):
            if trip <= day < trip + 3:
                for _ in range(_poisson(rng, person.rate)):
                    merchant = rng.choice([m for m, place in self.merchants if place == away])
                    self._add(person, self._moment(day), "card", person.typical * math.exp(rng.gauss(0, 0.6)),
                              False, terminal=merchant, card=True, place=away)
                if rng.random() < 0.6:
                    self._add(person, self._moment(day), "login", 0, False, device=person.devices[-1],
                              ip=hotel_ip, place=away)
                continue
            if rng.random() < 0.004:  # a new phone, registered from home
                person.devices.append(f"syn-d{person.index}-{len(person.devices)}")
                self._add(person, self._moment(day), "device", 0, False, device=person.devices[-1],
                          ip=person.ips[0])
            if rng.random() < 0.6:
                self._add(person, self._moment(day), "login", 0, False, device=person.devices[-1],
                          ip=rng.choice(person.ips))
            for _ in range(_poisson(rng, person.rate)):
                at = self._moment(day, night=rng.random() < 0.03)
                amount = person.typical * math.exp(rng.gauss(0, 0.6))
                device, ip = person.devices[-1], rng.choice(person.ips)
                roll = rng.random()
                if roll < 0.5:
                    usual = rng.random() > 0.05
                    merchant = rng.choice(person.merchants) if usual else rng.choice(self.merchants)[0]
                    self._add(person, at, "card", amount, False, terminal=merchant, card=True)
                elif roll < 0.85:
                    payee = rng.choice(person.payees)
                    if rng.random() < 0.04:  # someone new: sometimes a larger one-off (a deposit, a gift)
                        payee = f"syn-p{person.index}-{len(person.payees)}"
                        person.payees.append(payee)
                        amount *= rng.uniform(1, 5) if rng.random() < 0.3 else 1
                    self._add(person, at, "transfer", amount, False, payee=payee, device=device, ip=ip)
                else:
                    self._add(person, at, "qr", amount * 0.5, False, terminal=rng.choice(person.merchants),
                              device=device, ip=ip)

    def takeover(self, person: _Customer) -> None:
        rng = self.rng
        day = rng.randrange(7, self.days)
        start = self._moment(day, night=rng.random() < 0.5)
        device, ip = f"syn-x-dev{person.index}", f"syn-x-ip{person.index}"
        # Often from far away; as often through a proxy that looks local.
        far = CITIES[(CITIES.index(person.city) + rng.randrange(1, len(CITIES))) % len(CITIES)]
        place = far if rng.random() < 0.5 else person.city
        self._add(person, start, "login", 0, True, device=device, ip=ip, place=place)
        self._add(person, start + 60, "device", 0, True, device=device, ip=ip, place=place)
        # Mule accounts are often reused across victims, but as often fresh for each one.
        mules = rng.sample(self.mules, 1) if rng.random() < 0.4 else [f"syn-mule-{person.index}"]
        for k in range(rng.randint(1, 4)):
            amount = person.typical * rng.uniform(3, 15)
            self._add(person, start + 300 + k * rng.uniform(120, 1200), "transfer", amount, True,
                      payee=rng.choice(mules), device=device, ip=ip, place=place)

    def stolen_card(self, person: _Customer) -> None:
        rng = self.rng
        day = rng.randrange(5, self.days)
        at = self._moment(day)
        for k in range(rng.randint(3, 10)):
            merchant, place = rng.choice(self.merchants)
            amount = rng.uniform(1, 30) if k < 2 else person.typical * rng.uniform(0.5, 6)
            at += rng.uniform(300, 6 * 3600)
            self._add(person, at, "card", amount, True, terminal=merchant, card=True, place=place)


def _poisson(rng: random.Random, rate: float) -> int:
    threshold, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def history(*, seed: int = 7, customers: int = CUSTOMERS, days: int = DAYS,
            label_delay_s: float = 7 * DAY) -> History:
    """Generate the history and compute every event's features as the real-time path would have."""
    rng = random.Random(seed)
    world = _World(rng, customers, days)
    for person in world.people:
        world.genuine(person)
        if rng.random() < 0.05:
            world.takeover(person)
        if rng.random() < 0.05:
            world.stolen_card(person)
    events = sorted(world.events, key=lambda pair: pair[0].at)
    state = FeatureState(label_delay_s, utc_offset_s=UTC_OFFSET_S)
    arrivals: list[tuple[float, str]] = []
    rows = np.empty((len(events), len(FEATURE_NAMES)))
    for i, (event, fraud) in enumerate(events):
        while arrivals and arrivals[0][0] <= event.at:
            arrived, event_id = heapq.heappop(arrivals)
            state.label(event_id, True, arrived)
        vector = state.features(event)
        rows[i] = [vector.get(name, math.nan) for name in FEATURE_NAMES]
        state.observe(event, payer_habit(event, vector))
        if fraud:
            heapq.heappush(arrivals, (event.at + rng.uniform(1, 10) * DAY, event.event_id))
    return History(start=START, days=days, customers=customers, events=events, X=rows)
