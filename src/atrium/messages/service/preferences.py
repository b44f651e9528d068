"""A customer's message settings: marketing consent (off until they switch it on) and, per category, the
channels besides the inbox. Security alerts cannot be switched off (`domain.RULES`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.messages import domain
from atrium.messages import repository as repo
from atrium.messages.schemas import PreferencesRead, PreferencesUpdate


@dataclass(frozen=True)
class Effective:
    marketing_opt_in: bool
    choices: domain.ChannelChoices


def effective(session: Session, customer_id: str) -> Effective:
    row = repo.preference(session, customer_id)
    if row is None:
        return Effective(False, domain.resolve_choices(None))
    return Effective(bool(row.marketing_opt_in), domain.resolve_choices(row.channels))


def _read(session: Session, customer_id: str) -> PreferencesRead:
    row = repo.preference(session, customer_id)
    mine = effective(session, customer_id)
    return PreferencesRead(
        marketing_opt_in=mine.marketing_opt_in,
        marketing_changed_at=row.marketing_changed_at if row is not None else None,
        channels=mine.choices,
        locked={c: sorted(r.locked) for c, r in domain.RULES.items()},
    )


def get_preferences(session: Session, customer_id: str) -> PreferencesRead:
    return _read(session, customer_id)


def update_preferences(session: Session, customer_id: str, data: PreferencesUpdate) -> PreferencesRead:
    """Change what the customer names, keep the rest. Switching off a locked channel, or choosing a channel
    a category may not use, is refused whole (nothing changes). The same request twice changes nothing
    the second time."""
    wanted = domain.check_choices({c: dict(chans) for c, chans in data.channels.items()})
    row = repo.preference_for_update(session, customer_id)
    merged = {c: dict(v) for c, v in (row.channels or {}).items()}
    for category, chans in wanted.items():
        merged.setdefault(category, {}).update(chans)
    now = clock.now()
    if merged != (row.channels or {}):
        row.channels = merged  # a new dict: JSON columns track assignment, not mutation
        row.updated_at = now
    if data.marketing_opt_in is not None and data.marketing_opt_in != row.marketing_opt_in:
        row.marketing_opt_in = data.marketing_opt_in
        row.marketing_changed_at = row.updated_at = now
    session.flush()
    return _read(session, customer_id)
