"""Every table of every domain, imported in one place: Alembic's target metadata and the test schema."""

from __future__ import annotations

from atrium.db import idempotency  # noqa: F401
from atrium.db.base import Base
from atrium.events import models as _events  # noqa: F401
from atrium.identity import models as _identity  # noqa: F401

metadata = Base.metadata


def install_extras(conn) -> None:  # type: ignore[no-untyped-def]
    """Database objects the models cannot declare (PostgreSQL triggers). Migrations call the same code."""
