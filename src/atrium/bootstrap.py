"""Reference data every Atrium database needs, written by `atrium migrate` (and the demo seeder) after the
schema is up to date: the bank's default limits, its registered numbers and domains for the phishing check,
and the sign-in clients (the app, Atrium Life, a sample partner) under `settings.public_url`. Each step is
idempotent and keeps what staff changed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.antiphishing import service as phishing
from atrium.catalog import service as catalog
from atrium.config import get_settings
from atrium.identity.oidc import clients as oidc_clients
from atrium.limits import service as limits
from atrium.messages import service as messages


def reference_data(session: Session) -> int:
    """Write what is missing; returns the number of limit and channel rows added."""
    added = limits.ensure_default_bank_limits(session)
    added += phishing.ensure_defaults(session)
    oidc_clients.ensure_default_clients(session, get_settings().public_url)
    # The service catalogue from the business lines' definition files (built-in and settings.catalog.dirs).
    catalog.sync_definitions(session)
    # The inbox's built-in message templates (insert-only: staff edits are versions and stay).
    messages.ensure_builtin_templates(session)
    return added
