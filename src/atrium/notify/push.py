"""Who delivers a push notification. `PushSender` is the seam; settings (`push.sender`) choose it.

- `OutboxPushSender`: records only. The `SentPush` row is the delivery (development, tests, the demo's
  /dev/sms page). It needs no device: it shows what the customer would have been shown.
- `WebPushSender`: Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
  through `pywebpush`, to each of the customer's subscribed browsers. A push service answering 404 or 410
  says the subscription is gone for good (`PushSubscriptionGone`: stop using it); any other failure is
  `PushDeliveryFailed`, which the caller retries later.
- "off": no sender (`current()` is None); push notifications are skipped.

The payload the service worker receives is JSON: `{"title", "body", "url", "tag"}`; `url` is a path on
this site (the message), `tag` lets a newer notification about the same message replace an older one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from atrium.config import PushSettings, get_settings
from atrium.logs import get_logger
from atrium.notify.errors import PushDeliveryFailed, PushSubscriptionGone

log = get_logger("atrium.notify.push")
PAYLOAD_BODY_MAX = 400


@dataclass(frozen=True)
class PushTarget:
    """One browser's subscription, as the Push API handed it to the page."""

    endpoint: str
    p256dh: str  # base64url, the browser's P-256 public key
    auth: str  # base64url, 16 bytes of authentication secret


@dataclass(frozen=True)
class OutgoingPush:
    title: str
    body: str
    url: str  # a path on this site
    tag: str  # the message id
    category: str

    def payload(self) -> str:
        # Push services accept 4 KB of encrypted payload; a notification shows a few lines anyway (the
        # whole message is one tap away).
        body = self.body if len(self.body) <= PAYLOAD_BODY_MAX else self.body[: PAYLOAD_BODY_MAX - 1] + "…"
        return json.dumps(
            {"title": self.title[:120], "body": body, "url": self.url, "tag": self.tag},
            ensure_ascii=False, separators=(",", ":"),
        )


class PushSender(Protocol):
    name: str
    needs_device: bool  # False: one delivery per push, without a subscription (the outbox)

    def send(self, target: PushTarget | None, push: OutgoingPush) -> str | None:
        """Hand the push over; return the provider's reference (if any). Raise PushDeliveryFailed or
        PushSubscriptionGone."""
        ...


class OutboxPushSender:
    name = "outbox"
    needs_device = False

    def send(self, target: PushTarget | None, push: OutgoingPush) -> str | None:
        return None


class WebPushSender:
    name = "webpush"
    needs_device = True

    def __init__(
        self, private_key: str, *, subject: str, ttl_s: int = 86400, timeout_s: float = 5.0,
        requests_session: Any = None,
    ) -> None:
        from py_vapid import Vapid

        key = private_key.strip()
        # A PEM file's text, or the base64url raw key / DER that `vapid --gen` and most guides print.
        self.vapid = Vapid.from_pem(key.encode()) if key.startswith("-----BEGIN") else Vapid.from_string(key)
        self.subject = subject
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self.requests_session = requests_session  # tests pass a fake with `post(url, data, headers, timeout)`

    def send(self, target: PushTarget | None, push: OutgoingPush) -> str | None:
        import requests
        from pywebpush import WebPushException, webpush

        if target is None:
            raise PushSubscriptionGone("web push needs a subscribed browser")
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        try:
            response = webpush(
                info, data=push.payload(), vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},  # a fresh dict: webpush() writes aud and exp into it
                ttl=self.ttl_s, timeout=self.timeout_s, requests_session=self.requests_session,
            )
        except WebPushException as exc:
            status = exc.status_code
            # The endpoint is a capability URL: log the status and the message id, never the endpoint.
            log.warning("push service refused", status=status, tag=push.tag)
            if status in (404, 410):
                raise PushSubscriptionGone(f"the push service answered {status}") from exc
            raise PushDeliveryFailed(f"the push service answered {status}") from exc
        except (requests.RequestException, OSError, ValueError) as exc:
            log.warning("push service unreachable", error=type(exc).__name__, tag=push.tag)
            raise PushDeliveryFailed("the push service could not be reached") from exc
        location = getattr(response, "headers", {}).get("Location")
        return str(location)[-120:] if location else None


def public_key_of(private_key: str) -> str:
    """The base64url uncompressed public point (the app's `applicationServerKey`) of a VAPID private key."""
    import base64

    from cryptography.hazmat.primitives import serialization

    sender = WebPushSender(private_key, subject="mailto:x@example.invalid")
    raw = sender.vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair as (private, public), both base64url: for `ATRIUM_PUSH__VAPID_PRIVATE_KEY` and
    `ATRIUM_PUSH__VAPID_PUBLIC_KEY`."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big"))
    private_text = private.decode().rstrip("=")
    return private_text, public_key_of(private_text)


_UNSET = object()
_installed: object = _UNSET  # a sender (or None for "off") installed by `use`


def sender_choice(settings: PushSettings, env: str) -> str:
    if settings.sender is not None:
        return settings.sender
    return "off" if env == "production" else "outbox"


def from_settings(settings: PushSettings, env: str) -> PushSender | None:
    choice = sender_choice(settings, env)
    if choice == "off":
        return None
    if choice == "webpush":
        if not settings.vapid_private_key:
            raise ValueError("push.vapid_private_key is required when push.sender is 'webpush'")
        return WebPushSender(
            settings.vapid_private_key, subject=settings.vapid_subject, ttl_s=settings.ttl_s,
            timeout_s=settings.timeout_s,
        )
    return OutboxPushSender()


def current() -> PushSender | None:
    if _installed is not _UNSET:
        return _installed  # type: ignore[return-value]
    settings = get_settings()
    return from_settings(settings.push, settings.env)


def use(sender: PushSender | None, *, reset: bool = False) -> object:
    """Install `sender` for this process (tests; None means "off"; `reset=True` goes back to settings) and
    return the previous installation, which `restore` puts back."""
    global _installed
    previous = _installed
    _installed = _UNSET if reset else sender
    return previous


def restore(previous: object) -> None:
    global _installed
    _installed = previous
