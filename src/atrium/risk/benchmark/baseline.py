"""The book's own models on *our* windows: references measured in the same run (`--baseline`).

The book's published figures come from windows that start 2018-07-25 — days this project does not hold.
Beating them on other days says little unless the book's methods are measured on those same days too. So
this module rebuilds the book's 14 baseline features from the raw transactions (reimplemented from the
book's description, checked against the handbook's own transformed table) and trains the book's models
on them, fold by fold, with the same windows, the same label delay, the same hyper-parameter selection
rule (`selection.choose` on the fold's validation weeks) and the same metric code as the replay. They do
not go through the decision path: they are the yardstick, not the product.

The models (`MODELS`), each with the book's own grid:
- `FOREST`: its random forest (its model-selection chapter: depth 5/10/20/50 × 25/50/100 trees), the
  reference its later chapters compare against (published 0.870 / 0.678 / 0.299);
- `BALANCED_BAGGING`: its balanced bagging (its imbalanced-learning chapter: 100 trees of depth 20, each
  on a bootstrap sample whose genuine transactions are randomly undersampled to a fraud ratio of
  0.02/0.05/0.1/0.5/1, imbalanced-learn's `BalancedBaggingClassifier`), the model with its best published
  AUC ROC and Card Precision@100 (0.879 / 0.680 / 0.305).

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
from dataclasses import dataclass
from functools import partial
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
# The book's balanced-bagging grid (its imbalanced-learning chapter): the fraud ratio each tree's undersampled
# bootstrap sample is brought to; 100 trees of depth 20. The book reports 0.879 / 0.680 / 0.305.
BAGGING_GRID: Final[tuple[Mapping[str, Any], ...]] = tuple(
    {"sampling_strategy": ratio} for ratio in (0.02, 0.05, 0.1, 0.5, 1.0)
)
_SEED: Final = 0


def _forest(params: Mapping[str, Any], jobs: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**params, random_state=_SEED, n_jobs=jobs)


def _balanced_bagging(params: Mapping[str, Any], jobs: int) -> Any:
    """The book's balanced bagging: each tree's bootstrap sample keeps its frauds and `sampling_strategy`
    (frauds per genuine transaction) sets how many genuine ones it keeps, as imbalanced-learn's float
    ratio does — except that a sample already richer in fraud than asked for (other data than the book's, or
    an unlucky bootstrap) keeps all of them instead of the sampler refusing it."""
    from imblearn.ensemble import BalancedBaggingClassifier
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.tree import DecisionTreeClassifier

    return BalancedBaggingClassifier(
        estimator=DecisionTreeClassifier(max_depth=20, random_state=_SEED), n_estimators=100,
        bootstrap=True, sampler=RandomUnderSampler(), random_state=_SEED, n_jobs=jobs,
        sampling_strategy=partial(_genuine_kept, float(params["sampling_strategy"])))


def _genuine_kept(ratio: float, y: np.ndarray) -> dict[int, int]:
    """How many genuine transactions (class 0) a sample with labels `y` keeps at `ratio` frauds per genuine
    one (imbalanced-learn's rule, `int(frauds / ratio)`), at most those it has and at least one."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
    return {0: int(min(counts[0], max(1, int(counts[1] / ratio))))}


@dataclass(frozen=True)
class BookModel:
    """One of the book's models: how to build it from a grid point, and the grid it was selected on."""

    key: str
    name: str
    grid: tuple[Mapping[str, Any], ...]
    build: Callable[[Mapping[str, Any], int], Any]  # (params, jobs) → an unfitted scikit-learn classifier


FOREST: Final = BookModel("random_forest", "the book's random forest on its 15 baseline inputs (the amount "
                          "and 14 engineered features)", FOREST_GRID, _forest)
BALANCED_BAGGING: Final = BookModel(
    "balanced_bagging", "the book's balanced bagging on the same 15 inputs (its best published AUC ROC and "
    "CP@100)", BAGGING_GRID, _balanced_bagging)
MODELS: Final = (FOREST, BALANCED_BAGGING)


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


def run(data: Transactions, folds: Sequence[Fold], *, models: Sequence[BookModel] = MODELS,
        delay_days: int = 7, select: bool = True, jobs: int = -1,
        progress: Progress | None = None) -> list[dict[str, Any]]:
    """Train and assess each of the book's models on each fold, as the replay assesses the decision path;
    one summary per model, in `models` order. The features are built once for all of them."""
    X = book_features(data, delay_days)
    return [_run_model(data, X, folds, model, select, jobs, progress) for model in models]


def _run_model(data: Transactions, X: np.ndarray, folds: Sequence[Fold], model: BookModel, select: bool,
               jobs: int, progress: Progress | None) -> dict[str, Any]:
    tick = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    grid = model.grid
    book = _Book(data, X, model, jobs)
    results: list[dict[str, Any]] = []
    for fold in folds:
        stage = f"{model.key.replace('_', ' ')}: {fold.label}"
        params: Mapping[str, Any] = grid[0]
        info: dict[str, Any] = {}
        if select and has_validation(fold, data):
            params, info["validation"] = book.select(fold, grid, stage, tick)
        w = fold.window
        metrics = book.assess(book.fit(w.train_start, params), w.train_start, w.test_start)
        tick(stage, len(grid) + 1, len(grid) + 1)
        results.append({"fold": fold.index, **w.describe(), **metrics, "params": dict(params), **info})
    summary: dict[str, Any] = {"key": model.key, "model": model.name, "features": list(FEATURES),
                               "grid": [dict(p) for p in grid]}
    for metric in ("auc", "ap", "cp100"):
        values = [f[metric] for f in results]
        summary[metric] = float(np.mean(values))
        summary[f"{metric}_std"] = float(np.std(values))
    summary["folds"] = results
    summary["seconds"] = time.perf_counter() - started
    return summary


class _Book:
    """Fits and assesses one of the book's models on its features of one transaction stream."""

    def __init__(self, data: Transactions, X: np.ndarray, model: BookModel, jobs: int) -> None:
        self.data, self.X, self.model, self.jobs = data, X, model, jobs
        self.card = np.unique(data.customer, return_inverse=True)[1]

    def rows(self, start: int, end: int) -> tuple[int, int]:
        day = self.data.day
        return int(np.searchsorted(day, start)), int(np.searchsorted(day, end))

    def fit(self, train_start: int, params: Mapping[str, Any]) -> Any:
        """The model on the training week; every label of it has arrived when its test week starts. A week
        without a fraud (or without a genuine transaction) gives a model of the one class it saw."""
        from sklearn.dummy import DummyClassifier

        lo, hi = self.rows(train_start, train_start + 7)
        y = self.data.fraud[lo:hi]
        one_class = len(np.unique(y)) < 2
        model = DummyClassifier(strategy="prior") if one_class else self.model.build(params, self.jobs)
        return model.fit(self.X[lo:hi], y)

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
    """The model's probability of the fraud class (0 from a model that only saw genuine transactions)."""
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(X))


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours ÷ the baseline's, when both are numbers."""
    if ours is None or theirs is None or not math.isfinite(ours) or not math.isfinite(theirs) or theirs == 0:
        return None
    return ours / theirs
