"""Alembic environment: the URL comes from Atrium's settings (or the caller's connection)."""

from __future__ import annotations

from alembic import context

from atrium.config import get_settings
from atrium.db.engine import make_engine, normalise_url
from atrium.schema import metadata

config = context.config


def run_offline() -> None:
    context.configure(url=normalise_url(get_settings().database.url), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(get_settings().database.url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
