"""Six months of a person's money life, as a list of movements (pure: no database, deterministic).

Each movement names its two sides symbolically — a customer's own account, a merchant, another customer,
or the bank's settlement account for money crossing to other banks — and the seeder maps those to ledger
accounts. The generator keeps a running balance per account so nothing it emits would overdraw.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from atrium.demo.merchants import MERCHANTS, MONTHLY_VISITS, UTILITIES, MerchantSpec
from atrium.demo.people import LANDLORDS, Person

# China has one offset all year (no daylight saving), so a fixed offset is exact and much faster.
SHANGHAI = timezone(timedelta(hours=8))

# Symbolic account references.
#   ("cur", i) / ("sav", i) / ("usd", i): customer i's current, savings, USD accounts
#   ("mer", name): a merchant's settlement account; ("bank",): the bank's settlement (nostro) account
Ref = tuple


@dataclass(frozen=True, slots=True)
class Movement:
    at: datetime
    debit: Ref
    credit: Ref
    amount_minor: int
    currency: str
    kind: str
    category: str
    counterparty: str


def _at(day: date, rng: random.Random, hours: tuple[int, int]) -> datetime:
    """A moment of `day` between the given local hours (inclusive), as UTC."""
    seconds = int(rng.random() * (hours[1] - hours[0] + 1) * 3600)
    local = datetime.combine(day, time(hours[0]), tzinfo=SHANGHAI) + timedelta(seconds=seconds)
    return local.astimezone(UTC)


def _months(start: date, end: date) -> list[tuple[int, int]]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _day(y: int, m: int, d: int) -> date:
    return date(y, m, min(d, calendar.monthrange(y, m)[1]))


def person_history(
    p: Person, rng: random.Random, start: date, end: date, names: list[str], merchants: list[MerchantSpec]
) -> list[Movement]:
    """Movements for one person between `start` and `end` (inclusive), before balance checks."""
    out: list[Movement] = []
    cur, sav, bank = ("cur", p.index), ("sav", p.index), ("bank",)
    by_cat: dict[str, list[MerchantSpec]] = {}
    for spec in merchants:
        by_cat.setdefault(spec.category, []).append(spec)
    # An opening balance: what the customer brought when the account opened.
    opening = int(p.salary_minor * rng.uniform(0.5, 3.0))
    out.append(
        Movement(_at(start, rng, (9, 11)), bank, cur, opening, "CNY", "deposit", "deposit", "开户存入")
    )
    if p.has_usd:
        usd = int(rng.uniform(500, 8_000)) * 100
        out.append(Movement(_at(start, rng, (10, 15)), bank, ("usd", p.index), usd, "USD", "deposit",
                            "deposit", "外币存入 USD deposit"))
    payday = rng.choice([5, 10, 15, 25])
    for y, m in _months(start, end):
        first, last = _day(y, m, 1), _day(y, m, 31)

        def when(d: int, hours: tuple[int, int], y=y, m=m) -> datetime | None:
            day = _day(y, m, d)
            return _at(day, rng, hours) if start <= day <= end else None

        if (t := when(payday, (8, 10))) is not None:
            amount = int(p.salary_minor * rng.uniform(0.97, 1.05))
            out.append(Movement(t, bank, cur, amount, "CNY", "salary", "salary", p.employer))
        if p.rent_minor and (t := when(payday + 1, (10, 21))) is not None:
            out.append(Movement(t, cur, bank, p.rent_minor, "CNY", "interbank_transfer", "rent",
                                rng.choice(LANDLORDS)))
        for name in UTILITIES:
            if rng.random() < 0.8 and (t := when(rng.randint(12, 22), (9, 22))) is not None:
                spec = next(s for s in merchants if s.name == name)
                out.append(Movement(t, cur, ("mer", name), rng.randint(spec.low_minor, spec.high_minor),
                                    "CNY", "bill_payment", "utilities", name))
        for cat, visits in MONTHLY_VISITS.items():
            n = _poisson(rng, visits * p.spend_level)
            for _ in range(n):
                spec = rng.choice(by_cat[cat])
                day = first + timedelta(days=rng.randint(0, (last - first).days))
                if not start <= day <= end:
                    continue
                hours = (11, 13) if cat == "dining" and rng.random() < 0.5 else (7, 22)
                amount = int(rng.triangular(spec.low_minor, spec.high_minor, spec.low_minor * 1.5))
                kind = "qr_payment" if rng.random() < 0.55 else "card_payment"
                out.append(Movement(_at(day, rng, hours), cur, ("mer", spec.name), amount, "CNY", kind, cat,
                                    spec.name))
        population = len(names)
        if population > 1 and rng.random() < 0.7 and (t := when(rng.randint(1, 28), (9, 22))) is not None:
            other = rng.randrange(population - 1)
            other += other >= p.index
            amount = rng.choice([5_000, 10_000, 20_000, 50_000, 88_800, 100_000, 200_000])
            out.append(Movement(t, cur, ("cur", other), amount, "CNY", "internal_transfer", "transfer",
                                names[other]))
        if p.has_savings and (t := when(payday + 2, (20, 22))) is not None:
            out.append(Movement(t, cur, sav, int(p.salary_minor * rng.uniform(0.1, 0.3)) // 100 * 100,
                                "CNY", "own_transfer", "savings", "存入储蓄"))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, prod = pow(2.718281828459045, -lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def build_history(people: list[Person], start: date, end: date, seed: int) -> list[Movement]:
    """Every person's movements, merged in time order, with those that would overdraw dropped."""
    rng = random.Random(seed)
    names = [p.display_name for p in people]
    moves: list[Movement] = []
    for p in people:
        moves.extend(person_history(p, random.Random(rng.random()), start, end, names, MERCHANTS))
    moves.sort(key=lambda mv: mv.at)
    balance: dict[Ref, int] = {}
    kept: list[Movement] = []
    for mv in moves:
        if mv.debit[0] in {"cur", "sav", "usd"} and balance.get(mv.debit, 0) < mv.amount_minor:
            continue  # the customer could not afford it: in real life the payment is declined
        if mv.debit[0] != "bank" and mv.debit[0] != "mer":
            balance[mv.debit] = balance.get(mv.debit, 0) - mv.amount_minor
        balance[mv.credit] = balance.get(mv.credit, 0) + mv.amount_minor
        kept.append(mv)
    return kept
