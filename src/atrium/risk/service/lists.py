"""Block, allow and watch lists: staff add and remove entries; every change is audited and bumps the risk
revision, so every process's engine sees it on its next decision.

- Values of IPs, devices and payees are stored as keyed hashes (service/entities.py) with a mask for
  display; the clear value is never stored or logged. Card, account, merchant and customer values are the
  bank's own ids.
- An entry is on the list from its creation until it is removed or `expires_at` passes; the engine checks
  expiry at decision time, so an expired entry never acts even before anyone cleans it up.
- At most one active entry per (list, subject kind, value): adding it again is a conflict.
- Removal sets `removed_at`/`removed_by`; rows are never deleted. The audit table is append-only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.logs import get_logger
from atrium.risk import repository
from atrium.risk.domain.lists import ListEntry, pair_value
from atrium.risk.errors import DecisionNotFound, InvalidListEntry, ListEntryExists, ListEntryNotFound
from atrium.risk.models import RiskListEntry
from atrium.risk.repository import ENTITY_COLUMN
from atrium.risk.schemas import ListAuditRead, ListEntryCreate, ListEntryRead
from atrium.risk.service import entities, setup, views

log = get_logger("atrium.risk.lists")
# Subject kind → the decision's entity kind holding its key.
DECISION_ENTITY = {"card": "card", "account": "account", "device": "device", "ip": "ip", "payee": "payee",
                   "merchant": "terminal", "customer": "customer"}


def add_entry(session: Session, entry: ListEntryCreate, staff_id: str) -> ListEntryRead:
    """Put a raw value on a list (hashed where personal)."""
    if entry.subject_kind == "pair" and not entry.counterpart:
        raise InvalidListEntry("a payer–payee pair needs the payee as `counterpart`")
    if not entry.value.strip():
        raise InvalidListEntry("the value is empty")
    value, display = entities.list_value(entry.subject_kind, entry.value, entry.counterpart)
    return _add(session, entry.list_kind, entry.subject_kind, value, display, entry.reason, entry.expires_at,
                staff_id)


def add_entry_for_decision(session: Session, decision_id: str, subject_kind: str, staff_id: str, *,
                           list_kind: str = "block", reason: str = "",
                           expires_at: datetime | None = None) -> ListEntryRead:
    """Put an entity of a logged decision on a list (its key is already the stored one: the staff member
    never needs — or sees — the clear value)."""
    row = repository.get_decision(session, decision_id)
    if row is None:
        raise DecisionNotFound(f"no risk decision {decision_id}")
    if subject_kind == "pair":
        if row.customer_id is None or row.payee is None:
            raise InvalidListEntry("the decision has no payer and payee to pair")
        value = pair_value(row.customer_id, row.payee)
        display = f"{row.customer_id} → {row.displays.get('payee', '…')}"
    else:
        kind = DECISION_ENTITY.get(subject_kind)
        value = getattr(row, ENTITY_COLUMN[kind].key) if kind else None
        if value is None:
            raise InvalidListEntry(f"the decision has no {subject_kind}")
        display = row.displays.get(kind, value) if kind in entities.HASHED_KINDS else value  # type: ignore[arg-type]
    return _add(session, list_kind, subject_kind, value, display, reason, expires_at, staff_id)


def _add(session: Session, list_kind: str, subject_kind: str, value: str, display: str, reason: str,
         expires_at: datetime | None, staff_id: str) -> ListEntryRead:
    now = clock.now()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidListEntry("expires_at needs a time zone")
        if expires_at <= now:
            raise InvalidListEntry("expires_at is in the past")
    # The domain validates the shape (kinds, value length, pair format) exactly as the engine will load it.
    ListEntry(list_kind=list_kind, subject_kind=subject_kind, value=value,
              expires_at=expires_at.timestamp() if expires_at else None)
    setup.changed(session)  # first: the revision row's lock serialises two staff adding the same value
    if repository.active_entry(session, list_kind, subject_kind, value, now) is not None:
        raise ListEntryExists(f"that {subject_kind} is already on the {list_kind} list")
    row = RiskListEntry(id=new_id("rlst"), list_kind=list_kind, subject_kind=subject_kind, value=value,
                        display=display[:80], reason=reason, expires_at=expires_at, created_by=staff_id,
                        created_at=now)
    session.add(row)
    session.flush()
    repository.add_audit(session, row, "add", staff_id, reason)
    log.info("risk_list_entry_added", entry_id=row.id, list_kind=list_kind, subject_kind=subject_kind,
             staff_id=staff_id)
    return views.entry_read(row, now)


def remove_entry(session: Session, entry_id: str, staff_id: str, reason: str = "") -> ListEntryRead:
    row = repository.get_entry(session, entry_id)
    if row is None:
        raise ListEntryNotFound(f"no list entry {entry_id}")
    if row.removed_at is None:
        row.removed_at = clock.now()
        row.removed_by = staff_id
        session.flush()
        repository.add_audit(session, row, "remove", staff_id, reason)
        setup.changed(session)
        log.info("risk_list_entry_removed", entry_id=row.id, staff_id=staff_id)
    return views.entry_read(row)


def get_entry(session: Session, entry_id: str) -> ListEntryRead:
    row = repository.get_entry(session, entry_id)
    if row is None:
        raise ListEntryNotFound(f"no list entry {entry_id}")
    return views.entry_read(row)


def list_entries(session: Session, *, list_kind: str | None = None, subject_kind: str | None = None,
                 include_removed: bool = False, limit: int = 200) -> list[ListEntryRead]:
    now = clock.now()
    rows = repository.entries(session, list_kind=list_kind, subject_kind=subject_kind,
                              include_removed=include_removed, limit=limit)
    return [views.entry_read(row, now) for row in rows]


def list_audit(session: Session, *, entry_id: str | None = None, limit: int = 200) -> list[ListAuditRead]:
    return [views.audit_read(row) for row in repository.audit(session, entry_id=entry_id, limit=limit)]
