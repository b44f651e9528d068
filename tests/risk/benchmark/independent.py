"""The book's metrics again, written independently: plain Python, no numpy, no scikit-learn — to check
the benchmark's figures from its `--scores` CSV and the transaction file alone."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import datetime
from pathlib import Path


def read_rows(path: Path) -> dict[str, tuple[int, str, int]]:
    """TRANSACTION_ID -> (day number, customer, fraud)."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = {}
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        for row in csv.DictReader(f):
            day = datetime.strptime(row["TX_DATETIME"][:10], "%Y-%m-%d").toordinal()
            out[row["TRANSACTION_ID"]] = (day, row["CUSTOMER_ID"], int(float(row["TX_FRAUD"])))
    return out


def read_scores(path: Path) -> dict[int, list[tuple[str, float]]]:
    folds: dict[int, list[tuple[str, float]]] = defaultdict(list)
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            folds[int(row["fold"])].append((row["TRANSACTION_ID"], float(row["score"])))
    return folds


def fold_metrics(rows: dict[str, tuple[int, str, int]], scored: list[tuple[str, float]]) -> dict[str, float]:
    """The test week is the scored transactions' week; the training week starts 14 days before it."""
    score = dict(scored)
    test_start = min(rows[tx][0] for tx in score)
    train_days = [d for d, _, _ in rows.values() if test_start - 14 <= d < test_start - 7]
    start = min(train_days)
    known = {c for d, c, f in rows.values() if start <= d < start + 7 and f}
    test = []  # (day, customer, fraud, score) in time order
    by_time = sorted(rows.items(), key=lambda item: int(item[0]))
    for offset in range(7):
        known |= {c for _, (d, c, f) in by_time if d == start + 7 + offset - 1 and f}
        test += [(d, c, f, score[tx]) for tx, (d, c, f) in by_time
                 if d == start + 14 + offset and c not in known]
    labels = [t[2] for t in test]
    values = [t[3] for t in test]
    return {"auc": auc(labels, values), "ap": average_precision(labels, values), "cp100": cp_at_100(test)}


def auc(labels: list[int], values: list[float]) -> float:
    """Mann–Whitney: the probability a fraud outranks a genuine one (ties count half), via average ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    return (sum(r for r, y in zip(ranks, labels, strict=True) if y) - pos * (pos + 1) / 2) / (pos * neg)


def average_precision(labels: list[int], values: list[float]) -> float:
    """Sum over distinct thresholds (high to low) of (recall step) × precision."""
    pairs = sorted(zip(values, labels, strict=True), key=lambda p: -p[0])
    total = sum(labels)
    tp = fp = 0
    ap = last_recall = 0.0
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:
            tp += pairs[i][1]
            fp += 1 - pairs[i][1]
            i += 1
        recall = tp / total
        ap += (recall - last_recall) * tp / (tp + fp)
        last_recall = recall
    return ap


def cp_at_100(test: list[tuple[int, str, int, float]]) -> float:
    detected: set[str] = set()
    per_day = []
    for day in sorted({t[0] for t in test}):
        best: dict[str, list[float]] = {}  # card -> [max score, max label, first position]
        for position, (_, card, fraud, s) in enumerate(t for t in test if t[0] == day):
            if card in detected:
                continue
            entry = best.setdefault(card, [s, fraud, position])
            entry[0], entry[1] = max(entry[0], s), max(entry[1], fraud)
        top = sorted(best.items(), key=lambda item: (-item[1][0], item[1][2]))[:100]
        hits = [card for card, (_, fraud, _) in top if fraud]
        per_day.append(len(hits) / 100)
        detected.update(hits)
    return sum(per_day) / len(per_day)
