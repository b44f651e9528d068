"""The book's own model on *our* windows: a reference measured in the same run (`--baseline`).

The book's published figures come from windows that start 2018-07-25 — days this project does not hold.
Beating them on other days says little unless the book's method is measured on those same days too. So
this module rebuilds the book's 14 baseline features from the raw transactions (reimplemented from the
book's description, checked against the handbook's own transformed table) and trains the book's random
forest on them, fold by fold, with the same windows, the same label delay, the same hyper-parameter
selection rule (`selection.choose` on the fold's validation weeks) and the same metric code as the
replay. It does not go through the decision path: it is the yardstick, not the product.

The model's 15 inputs, per transaction at time t:
- `TX_AMOUNT`, `TX_DURING_WEEKEND` (Saturday or Sunday), `TX_DURING_NIGHT` (hour <= 6);
- per customer, for w in 1/7/30 days: the number of transactions in `(t - w, t]` and their mean amount,
  the transaction itself included (rows at the same second count up to the row itself, in file order);
- per terminal, for w in 1/7/30 days: the number of transactions in the window that ends where labels are
  complete, `(t - delay - w, t - delay]`, and the fraud share among them (0 for none).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np

from atrium.risk.benchmark.data import DAY_S, Transactions
from atrium.risk.benchmark.metrics import assess
from atrium.risk.benchmark.protocol import Fold, has_validation, span
from atrium.risk.benchmark.selection import choose

Progress = Callable[[str, int, int], None]

WINDOW_DAYS: Final = (1, 7, 30)
# The book's model inputs: the amount and its 14 engineered features.
FEATURES: Final[tuple[str, ...]] = (
    "TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT",
    *(f"CUSTOMER_ID_{what}_{w}DAY_WINDOW" for w in WINDOW_DAYS for what in ("NB_TX", "AVG_AMOUNT")),
    *(f"TERMINAL_ID_{what}_{w}DAY_WINDOW" for w in WINDOW_DAYS for what in ("NB_TX", "RISK")),
)
# The book's random-forest grid (its model-selection chapter); the book reports 0.870 / 0.678 / 0.299.
FOREST_GRID: Final[tuple[Mapping[str, Any], ...]] = tuple(
    {"max_depth": depth, "n_estimators": trees} for depth in (5, 10, 20, 50) for trees in (25, 50, 100)
)
MODEL: Final = "the book's random forest on its 15 baseline inputs (the amount and 14 engineered features)"
_SEED: Final = 0


def book_features(data: Transactions, delay_days: int = 7) -> np.ndarray:
    """The 15 inputs (columns in `FEATURES` order), one row per transaction of `data`."""
    day_s = float(DAY_S)
    hour = (data.at % day_s) // 3600
    weekday = ((data.at // day_s).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    columns: dict[str, np.ndarray] = {
        "TX_AMOUNT": data.amount.astype(np.float64),
        "TX_DURING_WEEKEND": (weekday >= 5).astype(np.float64),
        "TX_DURING_NIGHT": (hour <= 6).astype(np.float64),
    }
    customer = np.unique(data.customer, return_inverse=True)[1]
    terminal = np.unique(data.terminal, return_inverse=True)[1]
    by_customer = _Groups(customer, data.at)
    for w in WINDOW_DAYS:
        count, total = by_customer.trailing(data.amount, w * day_s)
        columns[f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = count
        columns[f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = total / count
    by_terminal = _Groups(terminal, data.at)
    fraud = data.fraud.astype(np.float64)
    recent_count, recent_frauds = by_terminal.trailing(fraud, delay_days * day_s)
    for w in WINDOW_DAYS:
        count, frauds = by_terminal.trailing(fraud, (delay_days + w) * day_s)
        count, frauds = count - recent_count, frauds - recent_frauds
        columns[f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW"] = count
        columns[f"TERMINAL_ID_RISK_{w}DAY_WINDOW"] = np.divide(
            frauds, count, out=np.zeros_like(frauds), where=count > 0)
    return np.column_stack([columns[name] for name in FEATURES])


class _Groups:
    """Rows ordered by (group, time, file order): each group's rows are contiguous and sorted, so a
    trailing window is one search per row over a composite key."""

    def __init__(self, group: np.ndarray, at: np.ndarray) -> None:
        n = len(at)
        self.order = np.lexsort((np.arange(n), at, group))
        g, t = group[self.order].astype(np.float64), at[self.order]
        self.start = np.searchsorted(g, g, side="left")  # each row's group's first row
        self.origin = float(t.min()) if n else 0.0
        self.stride = (float(t.max()) - self.origin if n else 0.0) + 1e9  # wider than any window
        self.key = g * self.stride + (t - self.origin)

    def trailing(self, values: np.ndarray, span_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Per row (in the data's order): how many rows of its group in `(t - span, t]` up to the row
        itself, and the sum of `values` over them."""
        n = len(self.order)
        first = np.maximum(np.searchsorted(self.key, self.key - span_s, side="right"), self.start)
        last = np.arange(1, n + 1)
        cum = np.concatenate(([0.0], np.cumsum(values[self.order], dtype=np.float64)))
        count, total = np.empty(n), np.empty(n)
        count[self.order] = last - first
        total[self.order] = cum[last] - cum[first]
        return count, total


def run(data: Transactions, folds: Sequence[Fold], *, delay_days: int = 7, select: bool = True,
        grid: Sequence[Mapping[str, Any]] = FOREST_GRID, jobs: int = -1,
        progress: Progress | None = None) -> dict[str, Any]:
    """Train and assess the book's forest on each fold, as the replay assesses the decision path."""
    tick = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    forest = _Forest(data, book_features(data, delay_days), jobs)
    results: list[dict[str, Any]] = []
    for fold in folds:
        stage = f"baseline: {fold.label}"
        params: Mapping[str, Any] = grid[0]
        info: dict[str, Any] = {}
        if select and has_validation(fold, data):
            params, info["validation"] = forest.select(fold, grid, stage, tick)
        w = fold.window
        metrics = forest.assess(forest.fit(w.train_start, params), w.train_start, w.test_start)
        tick(stage, len(grid) + 1, len(grid) + 1)
        results.append({"fold": fold.index, **w.describe(), **metrics, "params": dict(params), **info})
    summary: dict[str, Any] = {"model": MODEL, "features": list(FEATURES), "grid": [dict(p) for p in grid]}
    for metric in ("auc", "ap", "cp100"):
        values = [f[metric] for f in results]
        summary[metric] = float(np.mean(values))
        summary[f"{metric}_std"] = float(np.std(values))
    summary["folds"] = results
    summary["seconds"] = time.perf_counter() - started
    return summary


class _Forest:
    """Fits and assesses forests on the book's features of one transaction stream."""

    def __init__(self, data: Transactions, X: np.ndarray, jobs: int) -> None:
        self.data, self.X, self.jobs = data, X, jobs
        self.card = np.unique(data.customer, return_inverse=True)[1]

    def rows(self, start: int, end: int) -> tuple[int, int]:
        day = self.data.day
        return int(np.searchsorted(day, start)), int(np.searchsorted(day, end))

    def fit(self, train_start: int, params: Mapping[str, Any]) -> Any:
        """A forest on the training week; every label of it has arrived when its test week starts."""
        from sklearn.ensemble import RandomForestClassifier

        lo, hi = self.rows(train_start, train_start + 7)
        model = RandomForestClassifier(**params, random_state=_SEED, n_jobs=self.jobs)
        return model.fit(self.X[lo:hi], self.data.fraud[lo:hi])

    def scores(self, model: Any, test_start: int, lo: int) -> np.ndarray:
        """Scores for rows `[lo, end of the test week)`: the test week's, NaN before it."""
        test_lo, hi = self.rows(test_start, test_start + 7)
        out = np.full(hi - lo, np.nan)
        out[test_lo - lo:] = _fraud_probability(model, self.X[test_lo:hi])
        return out

    def assess(self, model: Any, train_start: int, test_start: int) -> dict[str, Any]:
        hi = self.rows(test_start, test_start + 7)[1]
        d, scores = self.data, self.scores(model, test_start, 0)
        return assess(d.day[:hi], self.card[:hi], d.fraud[:hi], scores, train_start)

    def select(self, fold: Fold, grid: Sequence[Mapping[str, Any]], stage: str,
               tick: Progress) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """The replay's rule: each candidate trained on the validation training week, compared on its test
        week by the mean of the three metrics."""
        v = fold.validation
        lo, hi = self.rows(v.train_start, v.test_end)
        tried = 0

        def candidate(params: Mapping[str, Any]) -> Callable[[], np.ndarray]:
            nonlocal tried
            model = self.fit(v.train_start, params)
            tried += 1
            tick(stage, tried, len(grid) + 1)
            return lambda: self.scores(model, v.test_start, lo)

        d = self.data
        params, candidates = choose(candidate, d.day[lo:hi], self.card[lo:hi], d.fraud[lo:hi], v.train_start,
                                    grid)
        return params, {"train": span(v.train_start, v.train_end), "test": span(v.test_start, v.test_end),
                        "candidates": candidates}


def _fraud_probability(model: Any, X: np.ndarray) -> np.ndarray:
    """The forest's probability of the fraud class (a week without frauds trains a one-class forest)."""
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(X))


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours ÷ the baseline's, when both are numbers."""
    if ours is None or theirs is None or not math.isfinite(ours) or not math.isfinite(theirs) or theirs == 0:
        return None
    return ours / theirs
