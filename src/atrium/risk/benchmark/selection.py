"""Hyper-parameters chosen on a validation window that ends before the fold's training week.

The grid is small on purpose (the whole prequential run stays within minutes on two cores): tree size
and the weight of the fraud class (the imbalance: ~0.8 % frauds). Candidates are compared on the mean
of the three book metrics (AUC ROC, AP, CP@100) over the validation test week, scored from the feature
log.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np

from atrium.risk.benchmark.metrics import assess

GRID: Final[tuple[Mapping[str, Any], ...]] = tuple(
    {"num_leaves": leaves, "n_estimators": 200, "scale_pos_weight": weight, "min_child_samples": 40}
    for leaves in (15, 63)
    for weight in (1.0, 5.0)
)
DEFAULT_CHOICE: Final[Mapping[str, Any]] = GRID[0]


def objective(metrics: Mapping[str, float]) -> float:
    values = [metrics["auc"], metrics["ap"], metrics["cp100"]]
    return -math.inf if any(math.isnan(v) for v in values) else sum(values) / 3


def choose(train: Callable[[Mapping[str, Any]], Callable[[], np.ndarray]],
           day: np.ndarray, card: np.ndarray, fraud: np.ndarray, validation_start: int,
           grid: Sequence[Mapping[str, Any]] = GRID) -> tuple[Mapping[str, Any], list[dict[str, Any]]]:
    """Try each candidate: `train(params)` fits on the validation training week and returns a function
    giving scores aligned with `day` (NaN outside the validation test week). Returns the best parameters
    and every candidate's validation metrics."""
    tried: list[dict[str, Any]] = []
    best, best_value = grid[0], -math.inf
    for params in grid:
        scores = train(params)()
        metrics = assess(day, card, fraud, scores, validation_start)
        value = objective(metrics)
        tried.append({"params": dict(params), "auc": metrics["auc"], "ap": metrics["ap"],
                      "cp100": metrics["cp100"], "objective": value})
        if value > best_value:
            best, best_value = params, value
    return best, tried
