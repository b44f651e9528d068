"""The replay: every transaction, in time order, through `Engine.decide` — the service's decision path.

- Labels reach the feature state `label_delay` after each transaction (7 days), never earlier.
- The engine logs each decision's feature vector; a fold's model is trained at the start of its test week
  from the logged vectors of its training week, with the labels that had arrived by then. Its
  hyper-parameters are chosen the same way on the fold's validation window (which ends before the fold's
  training week), or are the defaults when the data does not reach back that far.
- The score of every test-week transaction is the one the engine gave it at decision time.
- Latency is measured around `Engine.decide` (features, lists, rules, model, combine, observe).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from atrium.risk.benchmark.data import DAY_S, Transactions, day_to_iso
from atrium.risk.benchmark.metrics import assess
from atrium.risk.benchmark.protocol import Fold, check_coverage, has_validation, make_folds, span
from atrium.risk.benchmark.selection import DEFAULT_CHOICE, GRID, choose
from atrium.risk.domain.engine import Engine
from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.features import FeatureState, feature_names_for
from atrium.risk.domain.lists import ListIndex
from atrium.risk.domain.model import Scorer, known_labels, train
from atrium.risk.domain.rules import RuleSet

Progress = Callable[[str, int, int], None]  # (stage, done, total)
ENTITY_KINDS_IN_DATA = ("customer", "terminal")
_TICK = 20_000


@dataclass(frozen=True)
class BenchConfig:
    protocol: str = "single"
    train_start: str | None = None  # the earliest fold's training start; None = the book's
    folds: int = 4
    label_delay_days: int = 7
    grid: tuple[Mapping[str, Any], ...] = GRID
    num_threads: int = 1  # see model.train
    select: bool = True  # choose hyper-parameters on validation weeks when the data has them


@dataclass
class BenchResult:
    folds: list[dict[str, Any]]
    test_index: np.ndarray  # transaction positions of every test-week transaction, fold by fold
    test_fold: np.ndarray
    test_score: np.ndarray
    latency_ns: np.ndarray  # per decision, all replayed
    in_test: np.ndarray  # bool per replayed decision: decided by a fold's model
    stage_us: dict[str, float] = field(default_factory=dict)
    replay_seconds: float = 0.0
    train_seconds: float = 0.0


class FeatureLog:
    """Decision-time vectors of the transactions on the days some model trains or validates on."""

    def __init__(self, data: Transactions, days: set[int], columns: tuple[str, ...]) -> None:
        self.columns = columns
        needed = np.isin(data.day, sorted(days))
        self.position = np.full(len(data), -1, dtype=np.int64)
        self.position[needed] = np.arange(int(needed.sum()))
        self.X = np.full((int(needed.sum()), len(columns)), np.nan)

    def record(self, i: int, features: Mapping[str, float]) -> None:
        pos = self.position[i]
        if pos >= 0:
            self.X[pos] = np.fromiter((features[c] for c in self.columns), dtype=np.float64,
                                      count=len(self.columns))

    def rows(self, index: np.ndarray) -> np.ndarray:
        pos = self.position[index]
        if (pos < 0).any():
            raise RuntimeError("asked for vectors that were not logged")
        return self.X[pos]


def run(data: Transactions, cfg: BenchConfig, progress: Progress | None = None) -> BenchResult:
    folds = make_folds(cfg.protocol, cfg.train_start, cfg.folds)
    check_coverage(folds, data)
    tick = progress or (lambda stage, done, total: None)
    delay_s = cfg.label_delay_days * DAY_S
    card = np.unique(data.customer, return_inverse=True)[1]
    validated = {f.index: cfg.select and has_validation(f, data) for f in folds}
    log_days: set[int] = set()
    for f in folds:
        log_days.update(range(f.window.train_start, f.window.train_end))
        if validated[f.index]:
            v = f.validation
            log_days.update(range(v.train_start, v.train_end))
            log_days.update(range(v.test_start, v.test_end))
    log = FeatureLog(data, log_days, feature_names_for(ENTITY_KINDS_IN_DATA))
    n = int(np.searchsorted(data.day, max(f.window.test_end for f in folds)))
    day_fold = {d: f.index for f in folds for d in range(f.window.test_start, f.window.test_end)}
    boundaries = sorted((f.window.test_start * DAY_S, f.index) for f in folds)

    state = FeatureState(label_delay_s=delay_s)
    engine = Engine(state, ListIndex(), RuleSet(()))
    ids, at, days = data.tx_id.tolist(), data.at.tolist(), data.day.tolist()
    customers, terminals = data.customer.tolist(), data.terminal.tolist()
    minor = np.rint(data.amount * 100).astype(np.int64).tolist()
    frauds = data.fraud.tolist()
    score = np.full(n, np.nan)
    latency = np.zeros(n, dtype=np.int64)
    in_test = np.zeros(n, dtype=bool)
    stage_sum: dict[str, int] = {}
    fold_info: dict[int, dict[str, Any]] = {}
    next_label, current_day, b = 0, None, 0
    decide, label, clock = engine.decide, state.label, time.perf_counter_ns
    train_seconds = 0.0
    started = time.perf_counter()
    for i in range(n):
        now = at[i]
        while next_label < i and at[next_label] + delay_s <= now:
            label(ids[next_label], frauds[next_label] == 1, at[next_label] + delay_s)
            next_label += 1
        if b < len(boundaries) and now >= boundaries[b][0]:
            t = time.perf_counter()
            fold = folds[boundaries[b][1]]
            scorer, fold_info[fold.index] = _train_fold(fold, data, card, log, boundaries[b][0], delay_s,
                                                        cfg, validated[fold.index], tick)
            engine.champion = scorer
            train_seconds += time.perf_counter() - t
            b += 1
        if days[i] != current_day:
            current_day = days[i]
            state.evict(now)
        event = RiskEvent(ids[i], now, "card", minor[i], customer=customers[i], terminal=terminals[i])
        t0 = clock()
        decision = decide(event)
        latency[i] = clock() - t0
        log.record(i, decision.features)
        if days[i] in day_fold:
            score[i] = decision.score
            in_test[i] = True
            for key, value in decision.timings.items():
                stage_sum[key] = stage_sum.get(key, 0) + value
        if i % _TICK == 0:
            tick("replay", i, n)
    tick("replay", n, n)
    replay_seconds = time.perf_counter() - started - train_seconds

    results, index_parts, fold_parts = [], [], []
    for f in folds:
        mask = np.zeros(n, dtype=bool)
        lo, hi = np.searchsorted(data.day, f.window.test_start), np.searchsorted(data.day, f.window.test_end)
        mask[lo:hi] = True
        fold_scores = np.where(mask, score, np.nan)
        metrics = assess(data.day[:n], card[:n], data.fraud[:n], fold_scores, f.window.train_start)
        results.append({"fold": f.index, **f.window.describe(), **metrics, **fold_info[f.index]})
        index_parts.append(np.flatnonzero(mask))
        fold_parts.append(np.full(int(mask.sum()), f.index))
    test_index = np.concatenate(index_parts)
    decided = max(1, int(in_test.sum()))
    return BenchResult(
        folds=results, test_index=test_index, test_fold=np.concatenate(fold_parts),
        test_score=score[test_index], latency_ns=latency, in_test=in_test,
        stage_us={k: v / decided for k, v in stage_sum.items()},
        replay_seconds=replay_seconds, train_seconds=train_seconds,
    )


def _train_fold(fold: Fold, data: Transactions, card: np.ndarray, log: FeatureLog, known_at: float,
                delay_s: float, cfg: BenchConfig, validate: bool,
                tick: Progress) -> tuple[Scorer, dict[str, Any]]:
    """At the start of the fold's test week: choose parameters on its validation window, then train."""

    def fit(start: int, end: int, params: Mapping[str, Any]) -> Scorer:
        index = np.arange(np.searchsorted(data.day, start), np.searchsorted(data.day, end))
        y = known_labels(data.fraud[index], data.at[index] + delay_s, known_at)
        window = {"start": day_to_iso(start), "end": day_to_iso(end - 1), "labels_known_at": known_at}
        model = train(log.rows(index), y, log.columns, params, num_threads=cfg.num_threads, window=window,
                      created_at=known_at)
        return model.scorer()

    info: dict[str, Any] = {}
    params: Mapping[str, Any] = DEFAULT_CHOICE
    if validate:
        v = fold.validation
        lo, hi = np.searchsorted(data.day, v.train_start), np.searchsorted(data.day, v.test_end)
        test = np.arange(np.searchsorted(data.day, v.test_start), hi)
        done = 0

        def candidate(p: Mapping[str, Any]) -> Callable[[], np.ndarray]:
            nonlocal done
            scorer = fit(v.train_start, v.train_end, p)
            tick(f"{fold.label}: validation", done, len(cfg.grid))
            done += 1

            def scores() -> np.ndarray:
                out = np.full(hi - lo, np.nan)
                out[test - lo] = scorer.score_rows(log.rows(test), log.columns)
                return out
            return scores

        params, tried = choose(candidate, data.day[lo:hi], card[lo:hi], data.fraud[lo:hi], v.train_start,
                               cfg.grid)
        tick(f"{fold.label}: validation", len(cfg.grid), len(cfg.grid))
        info["validation"] = {"train": span(v.train_start, v.train_end),
                              "test": span(v.test_start, v.test_end), "candidates": tried}
    info["params"] = dict(params)
    info["params_source"] = "validation" if validate else "default (no validation weeks in the data)"
    scorer = fit(fold.window.train_start, fold.window.train_end, params)
    meta = scorer.model.metadata
    info["model"] = {"version": meta.version, "rows": meta.rows, "frauds": meta.frauds,
                     "features": len(meta.feature_names)}
    return scorer, info
