"""Applying a change to a service: the one place that writes `catalog_services`, always together with its
history row and a new catalogue revision (see models.py), whoever asked — an approved proposal or the
configuration sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from atrium.catalog import domain, repository
from atrium.catalog.models import CatalogService
from atrium.kit import clock

CONFIGURATION = "configuration"  # the actor recorded for changes made by definition files


def create(session: Session, definition: dict[str, Any], *, enabled: bool, starts_at: datetime | None,
           ends_at: datetime | None, proposed_by: str, approved_by: str, proposal_id: str | None = None,
           source: str = "console", config_version: int = 0, note: str = "") -> CatalogService:
    domain.validate_definition(definition)
    domain.validate_window(starts_at, ends_at)
    row = CatalogService(
        key=definition["key"], line=definition["line"], definition=definition, enabled=enabled,
        starts_at=starts_at, ends_at=ends_at, version=1, config_version=config_version, source=source,
        updated_at=clock.now(), updated_by=approved_by,
    )
    session.add(row)
    session.flush()
    _record(session, row, "create", proposal_id, proposed_by, approved_by, note)
    return row


def change(session: Session, row: CatalogService, kind: str, *, proposed_by: str, approved_by: str,
           definition: dict[str, Any] | None = None, enabled: bool | None = None,
           window: tuple[datetime | None, datetime | None] | None = None, proposal_id: str | None = None,
           source: str | None = None, config_version: int | None = None, note: str = "") -> CatalogService:
    """Update `row` (locked by the caller) and bump its version by one."""
    if definition is not None:
        domain.validate_definition(definition)
        if definition["key"] != row.key:
            raise ValueError("a change cannot rename a service")
        row.definition = definition
        row.line = definition["line"]
    if enabled is not None:
        row.enabled = enabled
    if window is not None:
        domain.validate_window(*window)
        row.starts_at, row.ends_at = window
    if source is not None:
        row.source = source
    if config_version is not None:
        row.config_version = config_version
    row.version += 1
    row.updated_at = clock.now()
    row.updated_by = approved_by
    session.flush()
    _record(session, row, kind, proposal_id, proposed_by, approved_by, note)
    return row


def _record(session: Session, row: CatalogService, kind: str, proposal_id: str | None, proposed_by: str,
            approved_by: str, note: str) -> None:
    repository.add_history(session, row, change=kind, proposal_id=proposal_id, proposed_by=proposed_by,
                           approved_by=approved_by, note=note)
    repository.bump_revision(session)
