"""The inbox: putting a message in a customer's inbox (with its pending notifications) and reading it.

Invariants:
- A message and the notifications it needs are written in one transaction; nothing is sent here (the
  delivery job sends), so a request never waits on an SMS gateway and a crash loses nothing.
- Every write is idempotent: a message carries a dedup key unique per customer (an event's id, a notice's
  id); a second send with the same key returns the first message and adds nothing.
- A customer only ever sees their own messages: another customer's id is "not found", as is a deleted one.
- Marketing reaches only customers who consented; security alerts reach everyone on every channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.kit.pagination import decode_cursor, encode_cursor
from atrium.messages import definitions, domain
from atrium.messages import repository as repo
from atrium.messages.errors import MessageNotFound
from atrium.messages.models import Message, Notification, TemplateVersion
from atrium.messages.schemas import MarkedRead, MessagePage, MessageRead, UnreadCount
from atrium.messages.service import preferences, templates

PAGE_MAX = 50


def customer_locale(session: Session, customer_id: str) -> str | None:
    """The customer's language, or None when there is no such active customer (nothing to send)."""
    customer = identity.get_customer(session, customer_id)
    if customer is None or customer.status != "active":
        return None
    return customer.locale if customer.locale in domain.LOCALES else domain.LOCALES[0]


def deliver(
    session: Session, *, customer_id: str, category: str, title: str, body: str, link: str | None,
    locale: str, dedup_key: str, source: str, channels: tuple[str, ...] | list[str],
    template: TemplateVersion | None = None,
) -> MessageRead | None:
    """Put one message in the inbox and queue its notifications; None when the customer does not take
    this category (marketing without consent)."""
    existing = repo.by_dedup(session, customer_id, dedup_key[:80])
    if existing is not None:
        return MessageRead.model_validate(existing)  # a repeat: the first message, whatever changed since
    prefs = preferences.effective(session, customer_id)
    if not domain.may_receive(category, prefs.marketing_opt_in):
        return None
    now = clock.now()
    row, created = repo.insert_message(session, Message(
        id=new_id("msg"), customer_id=customer_id, category=category, title=title[:200], body=body,
        link=domain.safe_link(link), locale=locale, source=source, dedup_key=dedup_key[:80],
        template_key=template.template_key if template else None,
        template_version=template.version if template else None, created_at=now,
    ))
    if created:
        for channel in domain.channels_to_send(category, tuple(channels), prefs.choices):
            repo.add_notification(session, Notification(
                id=new_id("ntf"), message_id=row.id, customer_id=customer_id, channel=channel,
                category=category, status="pending", attempts=0, next_attempt_at=now, created_at=now,
            ))
        session.flush()
    return MessageRead.model_validate(row)


def _link(ver: TemplateVersion, values: Mapping[str, domain.Value]) -> str | None:
    if ver.link is None:
        return None
    names = domain.placeholders(ver.link)
    if any(n not in values for n in names):
        return None  # a link with a hole would lead nowhere: send the message without it
    # Ids go into a path: quote them, so a value can never add a segment or a query.
    return domain.render(ver.link, {n: quote(str(values[n]), safe="") for n in names}, "en")


def send_templated(
    session: Session, *, customer_id: str, template_key: str, values: Mapping[str, domain.Value],
    dedup_key: str, source: str = "event", version: int | None = None,
) -> MessageRead | None:
    """Render a template (its current version, or a pinned one) in the customer's language and deliver it.
    None when there is no such active customer or they do not take the category."""
    locale = customer_locale(session, customer_id)
    if locale is None:
        return None
    existing = repo.by_dedup(session, customer_id, dedup_key)
    if existing is not None:
        return MessageRead.model_validate(existing)
    tpl, ver = (templates.pinned(session, template_key, version) if version is not None
                else templates.current(session, template_key))
    labels = definitions.builtin().labels
    title = domain.render(getattr(ver, f"title_{locale}"), values, locale, labels)
    body = domain.render(getattr(ver, f"body_{locale}"), values, locale, labels)
    return deliver(
        session, customer_id=customer_id, category=tpl.category, title=title, body=body,
        link=_link(ver, values), locale=locale, dedup_key=dedup_key, source=source, channels=ver.channels,
        template=ver,
    )


# --- reading -----------------------------------------------------------------------------------------


def _owned(session: Session, customer_id: str, message_id: str) -> Message:
    row = repo.owned(session, customer_id, message_id)
    if row is None:
        raise MessageNotFound("no such message", message_id=message_id)
    return row


def list_messages(
    session: Session, customer_id: str, *, category: str | None = None, unread: bool = False,
    cursor: str | None = None, limit: int = 20,
) -> MessagePage:
    """The inbox newest first, optionally one category or unread only; `next_cursor` continues it."""
    if category is not None and category not in domain.CATEGORIES:
        category = None
    before = None
    if cursor:
        (before,) = decode_cursor(cursor, size=1)
        before = str(before)
    limit = max(1, min(limit, PAGE_MAX))
    rows = repo.page(
        session, customer_id, category=category, unread=unread, before_id=before, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return MessagePage(
        items=[MessageRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more else None,
        unread=repo.count_unread(session, customer_id),
    )


def get_message(session: Session, customer_id: str, message_id: str) -> MessageRead:
    return MessageRead.model_validate(_owned(session, customer_id, message_id))


def mark_read(session: Session, customer_id: str, message_id: str) -> MessageRead:
    """Mark one message read (opening it does); already read stays as it was."""
    row = _owned(session, customer_id, message_id)
    if row.read_at is None:
        row.read_at = clock.now()
        session.flush()
    return MessageRead.model_validate(row)


def mark_all_read(session: Session, customer_id: str, *, category: str | None = None) -> MarkedRead:
    if category is not None and category not in domain.CATEGORIES:
        category = None
    marked = repo.mark_all_read(session, customer_id, clock.now(), category)
    session.flush()
    return MarkedRead(marked=marked, unread=repo.count_unread(session, customer_id))


def delete_message(session: Session, customer_id: str, message_id: str) -> None:
    """Take a message out of the customer's inbox (kept for the bank's records). Deleting it again is
    fine; another customer's message is not found."""
    row = repo.by_id_any_state(session, customer_id, message_id)
    if row is None:
        raise MessageNotFound("no such message", message_id=message_id)
    if row.deleted_at is None:
        row.deleted_at = clock.now()
        session.flush()


def unread_count(session: Session, customer_id: str) -> int:
    """Unread messages in the customer's inbox (the badge on the home page)."""
    return repo.count_unread(session, customer_id)


def unread_counts(session: Session, customer_id: str) -> UnreadCount:
    by = repo.unread_by_category(session, customer_id)
    return UnreadCount(unread=sum(by.values()), by_category={c: by.get(c, 0) for c in domain.CATEGORIES})
