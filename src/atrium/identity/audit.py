"""The customer's security history: every change to how they sign in or are protected is recorded in the
transaction that makes it (so a change and its record commit together), and listed newest first.

Each record also leaves a `SecurityChangeRecorded` integration event in the same transaction (ids and the
action only, never the detail), from which the inbox sends the customer a security alert."""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.events import outbox
from atrium.events.catalogue import SecurityChangeRecorded
from atrium.identity.models import SecurityChange
from atrium.kit.ids import new_id

Action = Literal[
    "passkey.added",
    "passkey.removed",
    "totp.enrolled",
    "totp.removed",
    "password.changed",
    "device.renamed",
    "device.removed",
    "session.ended",
    "sessions.ended",
    "identity.switched",
]
ACTIONS: tuple[str, ...] = get_args(Action)


def record(
    session: Session, customer_id: str, action: Action, detail: str = "", sid: str | None = None
) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown security action {action!r}")
    change_id = new_id("sec")
    session.add(
        SecurityChange(id=change_id, customer_id=customer_id, action=action, detail=detail[:200], sid=sid)
    )
    outbox.record(
        session, SecurityChangeRecorded(customer_id=customer_id, action=action, change_id=change_id)
    )
    session.flush()


def recent(session: Session, customer_id: str, *, limit: int = 20) -> list[SecurityChange]:
    return list(
        session.scalars(
            select(SecurityChange)
            .where(SecurityChange.customer_id == customer_id)
            .order_by(SecurityChange.id.desc())
            .limit(limit)
        )
    )
