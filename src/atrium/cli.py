"""`atrium …`: serve, migrate, demo seed, ledger check, bench."""

from __future__ import annotations

import typer

app = typer.Typer(help="Atrium — one-stop financial service platform", no_args_is_help=True)
demo_app = typer.Typer(help="The demo bank", no_args_is_help=True)
ledger_app = typer.Typer(help="Ledger maintenance", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(ledger_app, name="ledger")
events_app = typer.Typer(help="The outbox relay and event consumers", no_args_is_help=True)
app.add_typer(events_app, name="events")
catalog_app = typer.Typer(help="The service catalogue", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic head)."""
    from atrium import bootstrap
    from atrium.db import migrate as m
    from atrium.db.runtime import get_db

    m.upgrade(get_db().engine)
    typer.echo("database is at the latest migration")
    added = get_db().run(bootstrap.reference_data)
    if added:
        typer.echo(f"reference data: {added} rows added")


@app.command()
def serve(
    host: str = typer.Option(None, help="bind address (default from settings)"),
    port: int = typer.Option(None, help="port (default from settings)"),
    workers: int = typer.Option(None, help="worker processes (each with its own listening socket)"),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="uvicorn's per-request log"),
    app: str = typer.Option("atrium.asgi:app", hidden=True, help="the ASGI app (benchmarks)"),
) -> None:
    """Serve the API, the customer app and the staff console."""
    from atrium import serving
    from atrium.config import get_settings

    s = get_settings()
    serving.run(app, host=host or s.host, port=port or s.port, workers=workers or s.workers,
                log_level=s.log_level.lower(), proxy_headers=False, access_log=access_log)


@demo_app.command("seed")
def demo_seed(
    customers: int = typer.Option(2_000, help="how many customers"),
    months: int = typer.Option(6, help="months of history"),
    seed: int = typer.Option(7, help="random seed (the same seed builds the same bank)"),
    if_empty: bool = typer.Option(False, "--if-empty", help="do nothing if the bank already has customers"),
) -> None:
    """Build the demo bank: staff, merchants, customers, accounts and months of history."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from atrium.db.runtime import get_db
    from atrium.demo import seed as demo

    console = Console()
    db = get_db()
    if if_empty and demo.is_seeded(db):
        console.print("[green]The demo bank is already seeded.[/green]")
        _print_logins(console, demo.demo_logins())
        return
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, object] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        report = demo.seed(db, customers=customers, months=months, seed_value=seed, progress=tick)
    table = Table(title="Demo bank")
    for name in ("customers", "accounts", "merchants", "staff", "movements", "risk_rules"):
        table.add_row(name, f"{getattr(report, name):,}")
    console.print(table)
    _print_logins(console, report.logins)


def _print_logins(console, logins) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from atrium.config import get_settings

    url = get_settings().public_url
    table = Table(title=f"Demo logins — {url}")
    for col in ("username", "password", "who"):
        table.add_column(col)
    for row in logins:
        table.add_row(*row)
    console.print(table)
    console.print(f"A new browser is asked for an SMS code: the demo's texts are at {url}/dev/sms")


@ledger_app.command("check")
def ledger_check() -> None:
    """Trial balance per currency and every ledger discrepancy; exit code 1 if there is any."""
    from rich.console import Console
    from rich.table import Table

    from atrium.db.runtime import get_db
    from atrium.ledger import service as ledger

    with get_db().read_session() as session:
        report = ledger.check(session)
    console = Console()
    table = Table(title="Trial balance")
    for column in ("currency", "accounts", "debits (minor)", "credits (minor)", "difference", ""):
        table.add_column(column, justify="left" if column in ("currency", "") else "right")
    for line in report.trial_balance.values():
        mark = "[green]balanced[/]" if line.balanced else "[bold red]OFF[/]"
        table.add_row(line.currency, str(line.accounts), f"{line.debits_minor:,}", f"{line.credits_minor:,}",
                      f"{line.difference_minor:,}", mark)
    console.print(table)
    console.print(f"{report.accounts_checked} accounts, {report.journals_checked} journals checked")
    if report.ok:
        console.print("[bold green]ledger check passed: no discrepancies[/]")
        return
    problems = Table(title=f"{len(report.discrepancies)} discrepancies", title_style="bold red")
    for column in ("check", "subject", "expected", "actual", "detail"):
        problems.add_column(column)
    for d in report.discrepancies:
        problems.add_row(d.check, d.subject_id, str(d.expected if d.expected is not None else ""),
                         str(d.actual if d.actual is not None else ""), d.detail)
    console.print(problems)
    raise typer.Exit(1)


@events_app.command("relay")
def events_relay(once: bool = typer.Option(False, "--once", help="publish the backlog, then exit")) -> None:
    """Publish outbox events to the bus (on NATS, also run the consumers) until SIGINT/SIGTERM."""
    from atrium.config import get_settings
    from atrium.db.runtime import get_db
    from atrium.events import relay

    if not once:
        relay.serve_relay(get_db(), get_settings())
        return
    typer.echo(f"published {relay.relay_once(get_db())} events")
    left = relay.outbox_status(get_db()).unpublished
    if left:
        typer.echo(f"{left} events are still unpublished (see `atrium events status`)", err=True)
        raise typer.Exit(1)


@events_app.command("status")
def events_status() -> None:
    """The outbox backlog, events being retried, and events handled per consumer."""
    from atrium.db.runtime import get_db
    from atrium.events.relay import outbox_status

    typer.echo(outbox_status(get_db()).describe())


@catalog_app.command("sync")
def catalog_sync(
    directory: list[str] = typer.Option(
        None, "--dir", help="read only these directories (default: the built-in definitions and catalog.dirs)"
    ),
) -> None:
    """Apply the business lines' definition files: new services are created, higher file versions update."""
    from pathlib import Path

    from atrium.catalog import service as catalog
    from atrium.catalog.errors import InvalidDefinition
    from atrium.db.runtime import get_db

    dirs = [Path(d) for d in directory] if directory else None
    try:
        report = get_db().run(lambda s: catalog.sync_definitions(s, dirs))
    except InvalidDefinition as exc:
        typer.echo(f"catalogue definitions refused: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"read {len(report.files)} files: {len(report.created)} created,"
               f" {len(report.updated)} updated, {report.unchanged} unchanged")
    for key in report.created:
        typer.echo(f"  created {key}")
    for key in report.updated:
        typer.echo(f"  updated {key}")


@catalog_app.command("list")
def catalog_list(line: str = typer.Option(None, help="only this business line")) -> None:
    """Every service in the catalogue: key, status, version, identity kinds, target and where it came from."""
    from atrium.catalog import service as catalog
    from atrium.db.runtime import get_db

    with get_db().read_session() as session:
        services = catalog.list_managed(session, line=line)
        for s in services:
            status = catalog.service_status(s.enabled, s.window.starts_at, s.window.ends_at)
            d = s.definition
            typer.echo(f"{s.key:<32} {status:<9} v{s.version:<3} {','.join(d.identity_kinds):<34} "
                       f"{d.target:<24} {s.source}")
    typer.echo(f"{len(services)} services")


from atrium.bench.cli import bench_app  # noqa: E402 - light: the benchmarks import lazily when run

app.add_typer(bench_app, name="bench")
from atrium.risk.cli import risk_app  # noqa: E402 - light: the benchmark imports lazily when run

app.add_typer(risk_app, name="risk")
from atrium.risk.channel_cli import channels_app  # noqa: E402 - the decision API's channel keys

risk_app.add_typer(channels_app, name="channels")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
