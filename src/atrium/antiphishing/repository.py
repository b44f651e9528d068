"""All of the anti-phishing check's SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.antiphishing.models import ChannelChange, RegisteredChannel
from atrium.kit import clock
from atrium.kit.ids import new_id


def active_channels(session: Session) -> list[RegisteredChannel]:
    return list(
        session.scalars(
            select(RegisteredChannel)
            .where(RegisteredChannel.active.is_(True))
            .order_by(RegisteredChannel.kind, RegisteredChannel.value)
        )
    )


def all_channels(session: Session) -> list[RegisteredChannel]:
    """Active first, then retired (newest retirement first)."""
    return list(
        session.scalars(
            select(RegisteredChannel).order_by(
                RegisteredChannel.active.desc(), RegisteredChannel.kind, RegisteredChannel.value,
                RegisteredChannel.retired_at.desc(),
            )
        )
    )


def get(session: Session, channel_id: str, *, lock: bool = False) -> RegisteredChannel | None:
    stmt = select(RegisteredChannel).where(RegisteredChannel.id == channel_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def find(session: Session, kind: str, value: str, *, active_only: bool) -> RegisteredChannel | None:
    stmt = select(RegisteredChannel).where(RegisteredChannel.kind == kind, RegisteredChannel.value == value)
    if active_only:
        stmt = stmt.where(RegisteredChannel.active.is_(True))
    return session.scalars(stmt.limit(1)).first()


def add(
    session: Session, *, kind: str, value: str, display: str, label: str, include_subdomains: bool,
    added_by: str | None,
) -> RegisteredChannel:
    row = RegisteredChannel(
        id=new_id("pch"), kind=kind, value=value, display=display, label=label,
        include_subdomains=include_subdomains, active=True, added_by=added_by, created_at=clock.now(),
    )
    session.add(row)
    return row


def add_change(
    session: Session, *, channel_id: str, action: str, actor_kind: str, actor_id: str | None,
    detail: dict[str, Any],
) -> ChannelChange:
    row = ChannelChange(
        id=new_id("pcc"), channel_id=channel_id, action=action, actor_kind=actor_kind, actor_id=actor_id,
        detail=detail, changed_at=clock.now(),
    )
    session.add(row)
    return row


def changes(session: Session, *, limit: int = 50) -> list[ChannelChange]:
    return list(
        session.scalars(
            select(ChannelChange)
            .order_by(ChannelChange.changed_at.desc(), ChannelChange.id.desc())
            .limit(limit)
        )
    )
