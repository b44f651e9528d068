"""`atrium risk channels …`: issue, list and revoke the decision API's channel keys (card networks).

A key is printed once, when issued; the bank keeps only its digest. Who ran the command is recorded
(`cli:<user>`).
"""

from __future__ import annotations

import getpass

import typer

channels_app = typer.Typer(help="Channel clients of the decision API (card networks) and their keys",
                           no_args_is_help=True)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:40]
    except (KeyError, OSError):
        return "cli:unknown"


@channels_app.command("issue")
def issue(
    name: str = typer.Argument(..., help="who the client is, e.g. 'UnionPay authorisations'"),
    channel: list[str] = typer.Option(["card"], "--channel", help="a channel it may ask about (repeat)"),
    scope: list[str] = typer.Option(None, "--scope", help="risk:decide and/or risk:label (default both)"),
) -> None:
    """Register a channel client and print its key (shown this once)."""
    from atrium.db.runtime import get_db
    from atrium.kit.errors import ValidationFailed
    from atrium.risk import channel_clients

    scopes = scope or list(channel_clients.SCOPES)
    try:
        client, key = get_db().run(lambda s: channel_clients.issue(
            s, name=name, channels=channel, scopes=scopes, created_by=_actor()))
    except ValidationFailed as exc:
        raise typer.BadParameter(exc.detail) from exc
    typer.echo(f"client {client.id} ({client.name}): channels {', '.join(sorted(client.channels))}; "
               f"scopes {', '.join(sorted(client.scopes))}")
    typer.echo(f"key (shown once; send it as 'Authorization: Bearer <key>'): {key}")


@channels_app.command("list")
def list_clients() -> None:
    """Every channel client, revoked ones included (never their keys: the bank does not have them)."""
    from atrium.db.runtime import get_db
    from atrium.risk import channel_clients

    with get_db().read_session() as session:
        for c in channel_clients.list_clients(session):
            state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M} by {c.revoked_by}" if c.revoked_at else "live"
            typer.echo(f"{c.id}  {c.name}  key …{c.key_hint}  channels {','.join(c.channels)}  "
                       f"scopes {','.join(c.scopes)}  {state}")


@channels_app.command("revoke")
def revoke(client_id: str = typer.Argument(..., help="the client's id (rch_…)")) -> None:
    """Revoke a client's key: refused at once by this process, by every other within risk_api.key_cache_s."""
    from atrium.db.runtime import get_db
    from atrium.risk import channel_clients

    try:
        get_db().run(lambda s: channel_clients.revoke(s, client_id, revoked_by=_actor()))
    except channel_clients.ChannelClientNotFound as exc:
        raise typer.BadParameter(exc.detail) from exc
    typer.echo(f"revoked {client_id}")
