"""The catalogue's tables.

Invariants:
- `catalog_services` holds each service's current definition, switch, window and version; every applied
  change (from an approved proposal or the configuration sync) bumps the version by one and appends one row
  to `catalog_history` (unique per service and version) in the same transaction — the history is the audit
  of who proposed and who approved what, and it is never updated or deleted.
- A proposal is decided once: pending → approved | rejected | withdrawn | superseded.
- `catalog_revision` has one row whose `stamp` changes (a fresh random id) with every change to services or
  tab layouts; readers cache the decoded catalogue under the stamp. A fresh id rather than a counter, so a
  rolled-back change can never leave a cached catalogue that a later, different change would reuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class CatalogService(Base):
    __tablename__ = "catalog_services"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    line: Mapped[str] = mapped_column(String(24), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.ServiceDefinition, validated
    enabled: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    # The definition file's own `version` last applied by the sync (0: the service never came from a file).
    config_version: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(200), default="console")
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    updated_by: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"),
    )


class CatalogHistory(Base):
    """One applied change: the service as it became, and who proposed and approved it. Append-only."""

    __tablename__ = "catalog_history"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_key: Mapped[str] = mapped_column(ForeignKey("catalog_services.key"))
    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(16))  # create | update | switch | schedule
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool]
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    proposal_id: Mapped[str | None] = mapped_column(ForeignKey("catalog_proposals.id"), default=None)
    proposed_by: Mapped[str] = mapped_column(String(40))  # a staff id, or "configuration"
    approved_by: Mapped[str] = mapped_column(String(40))  # a second staff id, or "configuration"
    source: Mapped[str] = mapped_column(String(200), default="console")  # or the definition file
    note: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (UniqueConstraint("service_key", "version", name="uq_catalog_history_version"),)


class CatalogProposal(Base):
    """A maker's proposed change, waiting for a checker."""

    __tablename__ = "catalog_proposals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # create | update | switch | schedule
    service_key: Mapped[str] = mapped_column(String(80))
    base_version: Mapped[int]  # 0 for a new service
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(40))
    proposed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    decided_by: Mapped[str | None] = mapped_column(String(40), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_catalog_proposals_status", "status", "proposed_at"),
        Index("ix_catalog_proposals_service", "service_key", "proposed_at"),
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn', 'superseded')", name="status_known"
        ),
    )


class CatalogUsage(Base):
    """How often a customer opened a service in one identity kind: the "frequently used" row."""

    __tablename__ = "catalog_usage"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    identity_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    service_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    last_used_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (CheckConstraint("count >= 0", name="count_not_negative"),)


class CatalogTabLayout(Base):
    """A bottom-tab layout for an audience: the highest-priority layout whose identity kind and rule match
    the viewer is the one shown."""

    __tablename__ = "catalog_tab_layouts"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    identity_kind: Mapped[str] = mapped_column(String(24))
    audience: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    priority: Mapped[int] = mapped_column(default=0)
    tabs: Mapped[list[str]] = mapped_column(JSON)  # 3–5 built-in tab names or service keys, in order
    config_version: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(200), default="console")
    updated_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class CatalogRevision(Base):
    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    stamp: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
