"""The book's protocol: a training week, a 7-day delay week, a test week; prequential folds shift it.

Windows are whole UTC days. A fold's model is trained at the start of its test week; its hyper-parameters
are chosen on a validation window that ends before its training week starts (validation training week
`s-21..s-15`, test week `s-7..s-1`), so nothing from the fold's own weeks leaks into the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from atrium.risk.benchmark.data import Transactions, day_to_iso, iso_to_day

WEEK: Final = 7
# The book's reference windows (its first training week starts 2018-07-25).
BOOK_TRAIN_START: Final = "2018-07-25"
PROTOCOLS: Final = ("single", "prequential")
PREQUENTIAL_FOLDS: Final = 4


class ProtocolError(ValueError):
    """The data cannot carry the requested windows (said in words a user can act on)."""


@dataclass(frozen=True)
class Window:
    """Training week `[train_start, train_start+7)`, delay week, test week `[test_start, test_start+7)`."""

    train_start: int  # days since 1970-01-01

    @property
    def train_end(self) -> int:
        return self.train_start + WEEK

    @property
    def test_start(self) -> int:
        return self.train_start + 2 * WEEK

    @property
    def test_end(self) -> int:
        return self.train_start + 3 * WEEK

    def describe(self) -> dict[str, str]:
        return {"train": span(self.train_start, self.train_end),
                "delay": span(self.train_end, self.test_start),
                "test": span(self.test_start, self.test_end)}


@dataclass(frozen=True)
class Fold:
    index: int
    window: Window
    validation: Window  # ends (its test week) the day before the fold's training week starts

    @property
    def label(self) -> str:
        return f"fold {self.index}"


def span(start: int, end: int) -> str:
    """'2018-08-08..14' for days [start, end): the last day shortened when the month is the same."""
    a, b = day_to_iso(start), day_to_iso(end - 1)
    if a[:7] == b[:7]:
        return f"{a}..{b[8:]}"
    return f"{a}..{b[5:]}" if a[:4] == b[:4] else f"{a}..{b}"


def make_folds(protocol: str, train_start: str | None, count: int = PREQUENTIAL_FOLDS) -> list[Fold]:
    """Single: one fold. Prequential: `count` folds whose training weeks start train_start + 0, 7, 14, …
    days (train_start is the earliest fold's)."""
    if protocol not in PROTOCOLS:
        raise ProtocolError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    first = iso_to_day(train_start or BOOK_TRAIN_START)
    n = 1 if protocol == "single" else count
    return [Fold(k, Window(first + WEEK * k), Window(first + WEEK * k - 3 * WEEK)) for k in range(n)]


def check_coverage(folds: list[Fold], data: Transactions) -> None:
    """Every fold needs transactions in its training week and its test week."""
    days = np.unique(data.day)
    first, last = day_to_iso(data.first_day), day_to_iso(data.last_day)

    def present(start: int, end: int) -> bool:
        return bool(((days >= start) & (days < end)).any())

    for fold in folds:
        w = fold.window
        weeks = (("test", w.test_start, w.test_end), ("training", w.train_start, w.train_end))
        for name, start, end in weeks:
            if not present(start, end):
                where = (f"the data ends {last}" if start > data.last_day
                         else f"the data starts {first}" if end <= data.first_day
                         else f"the data covers {first}..{last}")
                raise ProtocolError(f"no transactions in the {name} week {span(start, end)}; {where} "
                                    f"— pass --train-start")


def has_validation(fold: Fold, data: Transactions) -> bool:
    """Whether the data holds the fold's validation weeks (else the default parameters are used)."""
    v = fold.validation
    day = data.day
    return bool(((day >= v.train_start) & (day < v.train_end)).any()
                and ((day >= v.test_start) & (day < v.test_end)).any())
