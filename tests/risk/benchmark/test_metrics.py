"""The book's metrics: the test-set filter on a worked example, and every figure against an independent
plain-Python implementation."""

from __future__ import annotations

import numpy as np
import pytest

from atrium.risk.benchmark.metrics import assess, card_precision_top_k, filtered_test_set
from tests.risk.benchmark import independent

pytestmark = pytest.mark.database_independent


def test_known_compromised_cards_follow_the_books_day_index() -> None:
    """Training days 0-6, delay 7-13, test 14-20. A fraud on delay day 7 is known from test day 15; one on
    day 13 never is (the book adds delay day s + 7 + d - 1 before test day d, so day 13 is never added)."""
    cards = {"A": 3, "C": 7, "D": 13, "E": 16, "F": None}  # card -> day of its fraud
    day, card, fraud = [], [], []
    for d in range(21):
        for code, name in enumerate(cards):
            day.append(d)
            card.append(code)
            fraud.append(int(cards[name] == d))
    day_a, card_a, fraud_a = np.array(day), np.array(card), np.array(fraud)
    mask = filtered_test_set(day_a, card_a, fraud_a, train_start=0)
    kept = {(int(d), "ACDEF"[c]) for d, c in zip(day_a[mask], card_a[mask], strict=True)}
    assert {name for d, name in kept if d == 14} == {"C", "D", "E", "F"}
    for d in range(15, 21):
        assert {name for dd, name in kept if dd == d} == {"D", "E", "F"}
    assert not any(d < 14 for d, _ in kept)


def test_cards_detected_on_an_earlier_day_leave_the_ranking() -> None:
    # Day 1: card 0 (fraud) tops the ranking with k=1. Day 2: card 0 is gone, card 1 (genuine) tops it.
    day = np.array([1, 1, 2, 2])
    card = np.array([0, 1, 0, 1])
    fraud = np.array([1, 0, 1, 0])
    score = np.array([0.9, 0.1, 0.9, 0.2])
    mean, per_day = card_precision_top_k(day, card, fraud, score, k=1)
    assert per_day == [1.0, 0.0] and mean == 0.5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_match_an_independent_implementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_days, per_day, cards = 21, 400, 700
    day = np.repeat(np.arange(100, 100 + n_days), per_day)
    card = rng.integers(0, cards, len(day))
    fraud = (rng.random(len(day)) < 0.03).astype(np.int8)
    score = np.where(fraud == 1, rng.beta(3, 2, len(day)), rng.beta(1, 6, len(day)))
    score = np.round(score, 3)  # ties, on purpose
    test = (day >= 114)
    ours = assess(day, card, fraud, np.where(test, score, np.nan), train_start=100)

    rows = {str(i): (int(d), str(c), int(f))
            for i, (d, c, f) in enumerate(zip(day, card, fraud, strict=True))}
    scored = [(str(i), float(score[i])) for i in np.flatnonzero(test)]
    theirs = independent.fold_metrics(rows, scored)
    for metric in ("auc", "ap", "cp100"):
        assert ours[metric] == pytest.approx(theirs[metric], abs=1e-12), metric
