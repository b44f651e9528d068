"""`atrium risk …`: the anti-fraud benchmark. Heavy imports (numpy, lightgbm, scikit-learn) happen when a
command runs, so `atrium --help` stays fast."""

from __future__ import annotations

from pathlib import Path

import typer

risk_app = typer.Typer(help="Real-time anti-fraud", no_args_is_help=True)


@risk_app.command("benchmark")
def benchmark(
    data: Path = typer.Option(..., "--data", help="transactions.csv.gz, or a folder holding it"),
    protocol: str = typer.Option("single", "--protocol", help="single | prequential"),
    train_start: str = typer.Option(
        None, "--train-start", help="YYYY-MM-DD: the (earliest) fold's training start; default the book's"),
    json_out: Path = typer.Option(None, "--json", help="write the results as JSON here"),
    scores_out: Path = typer.Option(None, "--scores", help="write fold,TRANSACTION_ID,score here"),
    baseline: bool = typer.Option(
        False, "--baseline", help="also train the book's random forest and balanced bagging on its 15 "
        "inputs, same folds and metrics: references measured on the same days (several minutes more)"),
) -> None:
    """Replay transactions through the decision path with the book's protocol; print AUC ROC, AP and
    Card Precision@100 per fold, and the per-decision latency."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from atrium.risk.benchmark import baseline as book
    from atrium.risk.benchmark import report
    from atrium.risk.benchmark.data import DataError, read_transactions
    from atrium.risk.benchmark.protocol import ProtocolError, make_folds
    from atrium.risk.benchmark.replay import BenchConfig, run

    console = Console(width=max(Console().width, 120))
    started = time.perf_counter()
    cfg = BenchConfig(protocol=protocol, train_start=train_start)
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with console.status("reading transactions"):
            transactions = read_transactions(data)
        console.print(f"{len(transactions):,} transactions from {transactions.source}")
        with Progress(*columns, console=console, transient=False) as bar:
            tasks: dict[str, object] = {}

            def tick(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

            result = run(transactions, cfg, tick)
            references = (book.run(transactions, make_folds(cfg.protocol, cfg.train_start, cfg.folds),
                                   delay_days=cfg.label_delay_days, progress=tick)
                          if baseline else None)
    except (DataError, ProtocolError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    doc = report.document(result, transactions, cfg, time.perf_counter() - started, references)
    console.print(report.table(doc))
    if references:
        console.print(report.baseline_table(doc))
    console.print(report.summary(doc))
    if json_out:
        report.write_json(doc, json_out)
        console.print(f"wrote {json_out}")
    if scores_out:
        report.write_scores(result, transactions, scores_out)
        console.print(f"wrote {scores_out}")


@risk_app.command("bootstrap-model")
def bootstrap_model() -> None:
    """Train the cold-start champion from synthetic history, if the registry holds no model yet (a fresh
    bank has no labels; `risk.retrain` trains challengers on its own once they arrive)."""
    from atrium.db.runtime import get_db
    from atrium.risk import service

    model = get_db().run(service.bootstrap_model)
    if model is None:
        typer.echo("the model registry already holds a model; nothing trained")
    else:
        typer.echo(f"trained cold-start champion {model.version}:"
                   f" {model.rows:,} rows, {model.frauds:,} frauds")
