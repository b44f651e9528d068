"""The book's metrics, exactly as its code computes them (reimplemented from its description).

- The test set: for test day d (0..6) keep the transactions of day `s + 14 + d` whose card is not known
  compromised. Known = cards with a fraud in the training week, plus — cumulatively — the cards with a
  fraud on day `s + 7 + d - 1` (the book's index for "the delay-period day whose labels have arrived"),
  where s is the first day with a training transaction.
- AUC ROC and Average Precision: scikit-learn on the filtered test set.
- Card Precision@100: per test day, drop the cards detected on earlier test days (fraudulent cards that
  made an earlier day's top 100), take each card's maximum score and maximum label, rank the cards by
  score, precision = fraudulent cards in the top 100 / 100; the mean over the test days. Ties in score
  are ranked by card in order of first appearance (the book's pandas sort leaves ties unspecified).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from atrium.risk.benchmark.protocol import WEEK


def filtered_test_set(day: np.ndarray, card: np.ndarray, fraud: np.ndarray, train_start: int,
              delta_train: int = WEEK, delta_delay: int = WEEK, delta_test: int = WEEK) -> np.ndarray:
    """Boolean mask of the filtered test set. `card` holds integer card codes."""
    training = (day >= train_start) & (day < train_start + delta_train)
    mask = np.zeros(len(day), dtype=bool)
    if not training.any():
        return mask
    known = set(card[training & (fraud == 1)].tolist())
    start = int(day[training].min())
    for d in range(delta_test):
        delay_day = start + delta_train + d - 1
        known.update(card[(day == delay_day) & (fraud == 1)].tolist())
        today = day == start + delta_train + delta_delay + d
        mask |= today & ~np.isin(card, list(known))
    return mask


def card_precision_top_k(day: np.ndarray, card: np.ndarray, fraud: np.ndarray, score: np.ndarray,
                         k: int = 100) -> tuple[float, list[float]]:
    """CP@k over a (filtered) test set: the mean over its days and the per-day values."""
    detected: set[int] = set()
    per_day: list[float] = []
    for d in np.unique(day):
        sel = (day == d) & ~np.isin(card, list(detected))
        cards, first, inverse = np.unique(card[sel], return_index=True, return_inverse=True)
        best = np.full(len(cards), -np.inf)
        np.maximum.at(best, inverse, score[sel])
        bad = np.zeros(len(cards), dtype=np.int8)
        np.maximum.at(bad, inverse, fraud[sel].astype(np.int8))
        order = np.lexsort((first, -best))[:k]
        hits = cards[order][bad[order] == 1]
        per_day.append(len(hits) / k)
        detected.update(hits.tolist())
    return (float(np.mean(per_day)) if per_day else math.nan), per_day


def assess(day: np.ndarray, card: np.ndarray, fraud: np.ndarray, score: np.ndarray,
           train_start: int) -> dict[str, Any]:
    """AUC ROC, AP and CP@100 of scores over the fold whose training week starts `train_start`. Arrays
    cover any superset of the fold's transactions; `score` may be NaN outside the test week."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    mask = filtered_test_set(day, card, fraud, train_start)
    y, s = fraud[mask], score[mask]
    if np.isnan(s).any():
        raise ValueError("a test transaction has no score")
    both = 0 < int(y.sum()) < len(y)
    cp, per_day = card_precision_top_k(day[mask], card[mask], y, s)
    return {
        "auc": float(roc_auc_score(y, s)) if both else math.nan,
        "ap": float(average_precision_score(y, s)) if both else math.nan,
        "cp100": cp,
        "cp100_per_day": per_day,
        "test_transactions": int(mask.sum()),
        "test_frauds": int(y.sum()),
        "test_fraud_cards": int(len(np.unique(card[mask][y == 1]))),
    }
