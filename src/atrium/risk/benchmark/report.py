"""The benchmark's outputs: the JSON document, the scores CSV and the console table."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from atrium.risk.benchmark.baseline import ratio
from atrium.risk.benchmark.data import Transactions, day_to_iso
from atrium.risk.benchmark.replay import BenchConfig, BenchResult

METRICS = ("auc", "ap", "cp100")
# The best published figure per metric (BENCHMARKS.md §3, prequential, mean over 4 folds).
BOOK_BEST = {"auc": 0.879, "ap": 0.687, "cp100": 0.305}


def document(result: BenchResult, data: Transactions, cfg: BenchConfig, wall_seconds: float,
             baselines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The run's JSON document; `baselines` is `baseline.run`'s summaries (one per book model) when they
    were measured too, each with the decision path's ratio to it per metric."""
    import lightgbm
    import sklearn

    test_ns = result.latency_ns[result.in_test]
    all_ns = result.latency_ns
    doc: dict[str, Any] = {
        "benchmark": "risk",
        "protocol": cfg.protocol,
        "train_start": result.folds[0]["train"][:10],
        "label_delay_days": cfg.label_delay_days,
    }
    for metric in METRICS:
        values = [f[metric] for f in result.folds]
        doc[metric] = _mean(values)
        doc[f"{metric}_std"] = _std(values)  # population std over the folds, as the book reports it
    doc["folds"] = result.folds
    doc.update({
        "latency_p50_ms": _pct(test_ns, 50),
        "latency_p99_ms": _pct(test_ns, 99),
        "latency_max_ms": float(test_ns.max() / 1e6) if len(test_ns) else None,
        "latency_mean_ms": float(test_ns.mean() / 1e6) if len(test_ns) else None,
        "latency_scope": "Engine.decide on each test-week transaction (features, lists, rules, model, "
                         "combine, observe), in process, one thread",
        "decisions_per_s": float(len(test_ns) / (test_ns.sum() / 1e9)) if test_ns.sum() else None,
        "latency_all_decisions": {
            "count": len(all_ns), "p50_ms": _pct(all_ns, 50), "p99_ms": _pct(all_ns, 99),
            "decisions_per_s": float(len(all_ns) / (all_ns.sum() / 1e9)),
        },
        "stage_mean_us": result.stage_us,
        "decisions": len(all_ns),
        "test_decisions": len(test_ns),
        "replay_seconds": result.replay_seconds,
        "train_seconds": result.train_seconds,
        "wall_seconds": wall_seconds,
        "data": {"source": data.source, "sha256": data.sha256, "transactions": len(data),
                 "frauds": int(data.fraud.sum()), "first_day": day_to_iso(data.first_day),
                 "last_day": day_to_iso(data.last_day)},
        "grid": [dict(p) for p in cfg.grid],
        "book_best": BOOK_BEST,
        **({"baselines": [{**b, "ratio": {m: ratio(doc[m], b[m]) for m in METRICS}} for b in baselines]}
           if baselines else {}),
        "environment": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                        "numpy": np.__version__, "scikit_learn": sklearn.__version__, "cpus": os.cpu_count()},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    return _clean(doc)


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_scores(result: BenchResult, data: Transactions, path: Path) -> None:
    """`fold,TRANSACTION_ID,score` for every test-week transaction (before the book's filtering)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = data.tx_id[result.test_index]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("fold", "TRANSACTION_ID", "score"))
        for fold, tx, score in zip(result.test_fold.tolist(), ids.tolist(), result.test_score.tolist(),
                                   strict=True):
            writer.writerow((fold, tx, repr(float(score))))


def table(doc: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"Risk benchmark — {doc['protocol']} (book-exact metrics)", show_lines=False)
    for column in ("fold", "train", "test", "AUC ROC", "AP", "CP@100", "leaves/trees/w+"):
        t.add_column(column, justify="left" if column in ("fold", "train", "test") else "right", no_wrap=True)
    for f in doc["folds"]:
        p = f["params"]
        brief = f"{p.get('num_leaves')}/{p.get('n_estimators')}/{p.get('scale_pos_weight')}"
        t.add_row(str(f["fold"]), f["train"], f["test"], _f(f["auc"]), _f(f["ap"]), _f(f["cp100"]), brief)
    t.add_section()
    t.add_row("mean ± std", "", "", *(f"{_f(doc[m])} ± {_f(doc[m + '_std'])}" for m in METRICS), "")
    t.add_row("book best", "", "", *(_f(BOOK_BEST[m]) for m in METRICS), "")
    return t


_SHORT = {"random_forest": "book's forest", "balanced_bagging": "book's balanced bagging"}


def baseline_table(doc: dict[str, Any]) -> Any:
    """The decision path against the book's models measured on the same folds (`--baseline`)."""
    from rich.table import Table

    books = doc["baselines"]
    t = Table(title="Same folds, same metrics: the book's models on its 15 inputs")
    t.add_column("metric", no_wrap=True)
    t.add_column("decision path", justify="right", no_wrap=True)
    for b in books:
        t.add_column(_SHORT.get(b["key"], b["key"]), justify="right", no_wrap=True)
        t.add_column("ratio", justify="right", no_wrap=True)
    t.add_column("book best, its own days", justify="right", no_wrap=True)
    for metric, name in zip(METRICS, ("AUC ROC", "AP", "CP@100"), strict=True):
        cells = [f"{_f(doc[metric])} ± {_f(doc[metric + '_std'])}"]
        for b in books:
            cells += [f"{_f(b[metric])} ± {_f(b[metric + '_std'])}", _r(b["ratio"][metric])]
        t.add_row(name, *cells, _f(BOOK_BEST[metric]))
    return t


def summary(doc: dict[str, Any]) -> str:
    return (f"latency per decision p50 {doc['latency_p50_ms']:.3f} ms, p99 {doc['latency_p99_ms']:.3f} ms "
            f"(max {doc['latency_max_ms']:.1f} ms) over {doc['test_decisions']:,} test-week decisions; "
            f"{doc['decisions_per_s']:,.0f} decisions/s in process. Replayed {doc['decisions']:,} "
            f"transactions in {doc['replay_seconds']:.0f} s, trained for {doc['train_seconds']:.0f} s, "
            f"wall {doc['wall_seconds']:.0f} s.")


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _r(value: float | None) -> str:
    return "—" if value is None else f"×{value:.3f}"


def _mean(values: list[float]) -> float:
    return float(np.mean(values))


def _std(values: list[float]) -> float:
    return float(np.std(values))


def _pct(ns: np.ndarray, q: float) -> float | None:
    return float(np.percentile(ns, q) / 1e6) if len(ns) else None


def _clean(value: Any) -> Any:
    """JSON-ready: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
