"""`atrium …`: serve, migrate, demo seed, ledger check, bench."""

from __future__ import annotations

import typer

app = typer.Typer(help="Atrium — one-stop financial service platform", no_args_is_help=True)
demo_app = typer.Typer(help="The demo bank", no_args_is_help=True)
ledger_app = typer.Typer(help="Ledger maintenance", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(ledger_app, name="ledger")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic head)."""
    from atrium.db import migrate as m
    from atrium.db.runtime import get_db

    m.upgrade(get_db().engine)
    typer.echo("database is at the latest migration")


@app.command()
def serve(
    host: str = typer.Option(None, help="bind address (default from settings)"),
    port: int = typer.Option(None, help="port (default from settings)"),
    workers: int = typer.Option(None, help="worker processes"),
) -> None:
    """Serve the API, the customer app and the staff console."""
    import uvicorn

    from atrium.config import get_settings

    s = get_settings()
    uvicorn.run(
        "atrium.asgi:app",
        host=host or s.host,
        port=port or s.port,
        workers=workers or s.workers,
        log_level=s.log_level.lower(),
        proxy_headers=False,
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
