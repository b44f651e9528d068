"""A customer's browsers subscribed to push notifications (stored by notify, which sends to them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.messages.schemas import PushKey, PushSubscriptionCreate, PushSubscriptionRead
from atrium.notify import push
from atrium.notify import service as notify


def push_key() -> PushKey:
    """What a page needs to subscribe: whether push is on here and, for Web Push, the VAPID public key."""
    settings = get_settings()
    choice = push.sender_choice(settings.push, settings.env)
    if choice == "webpush":
        public = settings.push.vapid_public_key
        if not public and settings.push.vapid_private_key:
            public = push.public_key_of(settings.push.vapid_private_key)
        return PushKey(enabled=True, public_key=public)
    return PushKey(enabled=choice == "outbox")


def subscribe(session: Session, customer_id: str, data: PushSubscriptionCreate) -> PushSubscriptionRead:
    row = notify.subscribe_push(
        session, customer_id=customer_id, endpoint=data.endpoint, p256dh=data.keys.p256dh,
        auth=data.keys.auth, device_label=data.device_label,
    )
    return PushSubscriptionRead.model_validate(row)


def unsubscribe(session: Session, customer_id: str, subscription_id: str) -> None:
    notify.unsubscribe_push(session, customer_id=customer_id, subscription_id=subscription_id)


def subscriptions(session: Session, customer_id: str) -> list[PushSubscriptionRead]:
    return [PushSubscriptionRead.model_validate(r) for r in notify.push_subscriptions(session, customer_id)]
