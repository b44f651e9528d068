"""A small synthetic card stream with the handbook's columns and dates unlike the book's (2031).

Its frauds follow simple patterns of its own (compromised terminals, compromised cards spending more than
usual, very large amounts) so that a model has something to learn; nothing in the product knows them."""

from __future__ import annotations

import csv
import gzip
import random
from datetime import datetime, timedelta
from pathlib import Path

COLUMNS = ("TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_TIME_SECONDS",
           "TX_TIME_DAYS", "TX_FRAUD", "TX_FRAUD_SCENARIO")
START = datetime(2031, 3, 1)


def rows(days: int = 70, customers: int = 300, terminals: int = 600,
         seed: int = 5) -> list[dict[str, object]]:
    rng = random.Random(seed)
    habits = [(rng.uniform(5, 100), rng.uniform(0.3, 1.5), rng.sample(range(terminals), 6))
              for _ in range(customers)]
    bad_terminals: dict[int, int] = {}  # terminal -> last compromised day
    bad_cards: dict[int, int] = {}
    out: list[dict[str, object]] = []
    for day in range(days):
        bad_terminals[rng.randrange(terminals)] = day + 14
        bad_cards[rng.randrange(customers)] = day + 8
        todays = []
        for customer, (mean, per_day, usual) in enumerate(habits):
            for _ in range(min(6, int(rng.expovariate(1 / per_day) + 0.5))):
                seconds = rng.randrange(86400)
                terminal = rng.choice(usual)
                amount = max(0.5, rng.gauss(mean, mean / 2))
                scenario = 0
                if amount > 250:
                    scenario = 1
                elif bad_terminals.get(terminal, -1) >= day:
                    scenario = 2
                elif bad_cards.get(customer, -1) >= day and rng.random() < 0.5:
                    amount, scenario = amount * 4, 3
                todays.append((seconds, customer, terminal, round(amount, 2), scenario))
        for seconds, customer, terminal, amount, scenario in sorted(todays):
            at = START + timedelta(days=day, seconds=seconds)
            out.append({"TX_DATETIME": at.strftime("%Y-%m-%d %H:%M:%S"), "CUSTOMER_ID": customer,
                        "TERMINAL_ID": terminal, "TX_AMOUNT": amount,
                        "TX_TIME_SECONDS": day * 86400 + seconds, "TX_TIME_DAYS": day,
                        "TX_FRAUD": int(scenario > 0), "TX_FRAUD_SCENARIO": scenario})
    for i, row in enumerate(out):
        row["TRANSACTION_ID"] = i
    return out


def write(path: Path, data: list[dict[str, object]], columns: tuple[str, ...] = COLUMNS) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as out:  # type: ignore[operator]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data)
    return path
