"""/api/v1/messages: the customer's inbox, message settings and push subscriptions.

No route takes a customer id: the principal is it. Another customer's message or subscription id answers
404, exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from atrium.messages import service
from atrium.messages.schemas import (
    CategoryName,
    MarkedRead,
    MessagePage,
    MessageRead,
    PreferencesRead,
    PreferencesUpdate,
    PushKey,
    PushSubscriptionCreate,
    PushSubscriptionRead,
    UnreadCount,
)
from atrium.web.deps import CurrentCustomer, ReadOnlySession, WriteSession

router = APIRouter(prefix="/messages", tags=["messages"])

MessageId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
SubscriptionId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


@router.get("", response_model=MessagePage)
def list_messages(
    customer: CurrentCustomer,
    session: ReadOnlySession,
    category: CategoryName | None = None,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> MessagePage:
    """The inbox, newest first; `category` and `unread` filter it; `next_cursor` continues it."""
    return service.list_messages(session, customer.id, category=category, unread=unread, cursor=cursor,
                                 limit=limit)


@router.get("/unread-count", response_model=UnreadCount)
def unread_count(customer: CurrentCustomer, session: ReadOnlySession) -> UnreadCount:
    """Unread messages, in total and per category."""
    return service.unread_counts(session, customer.id)


@router.post("/read-all", response_model=MarkedRead)
def mark_all_read(
    customer: CurrentCustomer, session: WriteSession, category: CategoryName | None = None
) -> MarkedRead:
    """Mark every unread message (of one category) read. Repeating it marks nothing more."""
    return service.mark_all_read(session, customer.id, category=category)


@router.get("/preferences", response_model=PreferencesRead)
def get_preferences(customer: CurrentCustomer, session: ReadOnlySession) -> PreferencesRead:
    """Marketing consent and, per category, the channels besides the inbox (locked ones are always on)."""
    return service.get_preferences(session, customer.id)


@router.put("/preferences", response_model=PreferencesRead)
def put_preferences(
    body: PreferencesUpdate, customer: CurrentCustomer, session: WriteSession
) -> PreferencesRead:
    """Change marketing consent and channel choices; what is not named stays. 422 when switching off a
    channel security alerts always use, or choosing a channel a category may not use."""
    return service.update_preferences(session, customer.id, body)


@router.get("/push-key", response_model=PushKey)
def push_key(customer: CurrentCustomer) -> PushKey:
    """Whether push notifications are on here and the VAPID public key to subscribe a browser with."""
    return service.push_key()


@router.get("/push-subscriptions", response_model=list[PushSubscriptionRead])
def list_push_subscriptions(
    customer: CurrentCustomer, session: ReadOnlySession
) -> list[PushSubscriptionRead]:
    """The customer's browsers that receive push notifications."""
    return service.subscriptions(session, customer.id)


@router.post("/push-subscriptions", response_model=PushSubscriptionRead, status_code=201)
def subscribe(
    body: PushSubscriptionCreate, customer: CurrentCustomer, session: WriteSession
) -> PushSubscriptionRead:
    """Register this browser's push subscription (`PushSubscription.toJSON()`). The same endpoint again is
    the same subscription."""
    return service.subscribe(session, customer.id, body)


@router.delete("/push-subscriptions/{subscription_id}", status_code=204)
def unsubscribe(
    subscription_id: SubscriptionId, customer: CurrentCustomer, session: WriteSession
) -> Response:
    """Stop pushing to one browser. Repeating it is fine."""
    service.unsubscribe(session, customer.id, subscription_id)
    return Response(status_code=204)


@router.get("/{message_id}", response_model=MessageRead)
def get_message(message_id: MessageId, customer: CurrentCustomer, session: ReadOnlySession) -> MessageRead:
    """One message (reading it through the API does not mark it read: POST …/read does)."""
    return service.get_message(session, customer.id, message_id)


@router.post("/{message_id}/read", response_model=MessageRead)
def mark_read(message_id: MessageId, customer: CurrentCustomer, session: WriteSession) -> MessageRead:
    """Mark one message read; already read stays as it was."""
    return service.mark_read(session, customer.id, message_id)


@router.delete("/{message_id}", status_code=204)
def delete_message(message_id: MessageId, customer: CurrentCustomer, session: WriteSession) -> Response:
    """Take a message out of the inbox. Deleting it again is fine."""
    service.delete_message(session, customer.id, message_id)
    return Response(status_code=204)
