"""All of the inbox's SQL. Functions flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atrium.messages.models import (
    Broadcast,
    Message,
    MessageTemplate,
    Notice,
    Notification,
    Preference,
    TemplateVersion,
)

# --- messages ---------------------------------------------------------------------------------------


def _visible(customer_id: str) -> Select[tuple[Message]]:
    return select(Message).where(Message.customer_id == customer_id, Message.deleted_at.is_(None))


def by_dedup(session: Session, customer_id: str, dedup_key: str) -> Message | None:
    return session.scalar(
        select(Message).where(Message.customer_id == customer_id, Message.dedup_key == dedup_key)
    )


def insert_message(session: Session, row: Message) -> tuple[Message, bool]:
    """Insert unless the customer already has a message with the same dedup key; (row, created)."""
    existing = by_dedup(session, row.customer_id, row.dedup_key)
    if existing is not None:
        return existing, False
    try:
        # A savepoint: a concurrent twin that committed first makes this insert fail, not the caller's unit.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        twin = by_dedup(session, row.customer_id, row.dedup_key)
        if twin is None:
            raise
        return twin, False
    return row, True


def owned(session: Session, customer_id: str, message_id: str) -> Message | None:
    return session.scalar(_visible(customer_id).where(Message.id == message_id))


def message(session: Session, message_id: str) -> Message | None:
    return session.get(Message, message_id)


def by_id_any_state(session: Session, customer_id: str, message_id: str) -> Message | None:
    row = session.get(Message, message_id)
    return row if row is not None and row.customer_id == customer_id else None


def page(
    session: Session, customer_id: str, *, category: str | None, unread: bool, before_id: str | None,
    limit: int,
) -> list[Message]:
    """Newest first (ids are time-ordered, so the id is the keyset)."""
    stmt = _visible(customer_id)
    if category:
        stmt = stmt.where(Message.category == category)
    if unread:
        stmt = stmt.where(Message.read_at.is_(None))
    if before_id:
        stmt = stmt.where(Message.id < before_id)
    return list(session.scalars(stmt.order_by(Message.id.desc()).limit(limit)))


def count_unread(session: Session, customer_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Message).where(
            Message.customer_id == customer_id, Message.deleted_at.is_(None), Message.read_at.is_(None)
        )
    ) or 0


def unread_by_category(session: Session, customer_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Message.category, func.count()).where(
            Message.customer_id == customer_id, Message.deleted_at.is_(None), Message.read_at.is_(None)
        ).group_by(Message.category)
    ).all()
    return {category: count for category, count in rows}


def mark_all_read(session: Session, customer_id: str, at: datetime, category: str | None) -> int:
    stmt = update(Message).where(
        Message.customer_id == customer_id, Message.deleted_at.is_(None), Message.read_at.is_(None)
    )
    if category:
        stmt = stmt.where(Message.category == category)
    result = session.execute(stmt.values(read_at=at).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0  # type: ignore[attr-defined]


def delete_by_dedup(session: Session, dedup_key: str, at: datetime) -> int:
    """Take a message (a withdrawn notice's copies) out of every inbox."""
    result = session.execute(
        update(Message).where(Message.dedup_key == dedup_key, Message.deleted_at.is_(None))
        .values(deleted_at=at).execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def read_dedup_keys(session: Session, customer_id: str, keys: Sequence[str]) -> dict[str, Message]:
    if not keys:
        return {}
    rows = session.scalars(
        select(Message).where(Message.customer_id == customer_id, Message.dedup_key.in_(list(keys)))
    )
    return {m.dedup_key: m for m in rows}


def counts_by_category(session: Session, since: datetime | None) -> dict[str, int]:
    stmt = select(Message.category, func.count()).group_by(Message.category)
    if since is not None:
        stmt = stmt.where(Message.created_at >= since)
    return {category: count for category, count in session.execute(stmt).all()}


# --- notifications ----------------------------------------------------------------------------------


def add_notification(session: Session, row: Notification) -> None:
    session.add(row)


def due(session: Session, now: datetime, limit: int) -> list[tuple[str, datetime]]:
    rows = session.execute(
        select(Notification.id, Notification.next_attempt_at)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def claim(session: Session, notification_id: str, seen_due: datetime, lease_until: datetime) -> bool:
    """Take one due notification: only the runner whose conditional update changes the row has it."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "pending",
               Notification.next_attempt_at == seen_due)
        .values(next_attempt_at=lease_until, attempts=Notification.attempts + 1)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


def notification(session: Session, notification_id: str) -> Notification | None:
    return session.get(Notification, notification_id)


def notifications_of(session: Session, message_id: str) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.message_id == message_id).order_by(Notification.channel)
    ))


def delivery_counts(session: Session, since: datetime | None) -> list[tuple[str, str, int]]:
    stmt = select(Notification.channel, Notification.status, func.count()).group_by(
        Notification.channel, Notification.status
    )
    if since is not None:
        stmt = stmt.where(Notification.created_at >= since)
    return [(c, s, n) for c, s, n in session.execute(stmt).all()]


def error_counts(session: Session, since: datetime | None) -> list[tuple[str, str, int]]:
    stmt = (
        select(Notification.channel, Notification.last_error, func.count())
        .where(Notification.last_error.is_not(None))
        .group_by(Notification.channel, Notification.last_error)
    )
    if since is not None:
        stmt = stmt.where(Notification.created_at >= since)
    return [(c, e, n) for c, e, n in session.execute(stmt).all()]


# --- preferences ------------------------------------------------------------------------------------


def preference(session: Session, customer_id: str) -> Preference | None:
    return session.get(Preference, customer_id)


def preference_for_update(session: Session, customer_id: str) -> Preference:
    row = session.get(Preference, customer_id, with_for_update=True)
    if row is None:
        row = Preference(customer_id=customer_id, marketing_opt_in=False, channels={})
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.get(Preference, customer_id, with_for_update=True, populate_existing=True)
            assert row is not None
    return row


# --- templates --------------------------------------------------------------------------------------


def template(session: Session, key: str, *, lock: bool = False) -> MessageTemplate | None:
    return session.get(MessageTemplate, key, with_for_update=lock)


def templates(session: Session) -> list[MessageTemplate]:
    return list(session.scalars(select(MessageTemplate).order_by(MessageTemplate.key)))


def version(session: Session, key: str, number: int) -> TemplateVersion | None:
    return session.get(TemplateVersion, (key, number))


def versions(session: Session, key: str) -> list[TemplateVersion]:
    return list(session.scalars(
        select(TemplateVersion).where(TemplateVersion.template_key == key)
        .order_by(TemplateVersion.version.desc())
    ))


def add_template(session: Session, row: MessageTemplate, first: TemplateVersion) -> bool:
    """Insert a template with its first version; False when the key exists already (nothing written)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.add(first)
    except IntegrityError:
        return False
    return True


def add_version(session: Session, row: TemplateVersion) -> None:
    session.add(row)
    session.flush()


# --- notices and broadcasts -------------------------------------------------------------------------


def add(session: Session, row: Notice | Broadcast) -> None:
    session.add(row)
    session.flush()


def notice(session: Session, notice_id: str) -> Notice | None:
    return session.get(Notice, notice_id)


def notice_by_key(session: Session, request_key: str) -> Notice | None:
    return session.scalar(select(Notice).where(Notice.request_key == request_key))


def broadcast_by_key(session: Session, request_key: str) -> Broadcast | None:
    return session.scalar(select(Broadcast).where(Broadcast.request_key == request_key))


def notices(session: Session, limit: int) -> list[Notice]:
    return list(session.scalars(select(Notice).order_by(Notice.id.desc()).limit(limit)))


def live_notices(session: Session, now: datetime, audiences: Sequence[str], limit: int) -> list[Notice]:
    return list(session.scalars(
        select(Notice).where(
            Notice.status == "published", Notice.starts_at <= now, Notice.ends_at > now,
            Notice.audience.in_(list(audiences)),
        ).order_by(Notice.starts_at.desc(), Notice.id.desc()).limit(limit)
    ))


def broadcast(session: Session, broadcast_id: str, *, lock: bool = False) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id, with_for_update=lock)


def open_broadcasts(session: Session, limit: int) -> list[str]:
    return list(session.scalars(
        select(Broadcast.id).where(Broadcast.status.in_(("pending", "running")))
        .order_by(Broadcast.created_at, Broadcast.id).limit(limit)
    ))


def broadcasts(session: Session, limit: int) -> list[Broadcast]:
    return list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))


def broadcasts_of_notice(session: Session, notice_id: str) -> list[Broadcast]:
    return list(session.scalars(select(Broadcast).where(Broadcast.notice_id == notice_id)))
