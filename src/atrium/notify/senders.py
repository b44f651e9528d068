"""Who delivers a text message. `SmsSender` is the seam; settings choose the implementation.

- `OutboxSender`: records only. The `SentMessage` row is the delivery (development, tests, the demo's
  /dev/sms page).
- `HttpSmsSender`: POSTs JSON to an SMS gateway (`{"to", "text", "sender_id", "reference"}`, bearer token
  if configured) with a timeout; any transport error or non-2xx answer is `SmsDeliveryFailed`. The
  gateway's message id (`id` in its JSON answer) is kept as the provider reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from atrium.config import Settings, get_settings
from atrium.logs import get_logger
from atrium.notify.errors import SmsDeliveryFailed

log = get_logger("atrium.notify")


@dataclass(frozen=True)
class OutgoingSms:
    to: str  # E.164
    text: str  # the full text, reference code included
    reference: str  # the verify code
    category: str


class SmsSender(Protocol):
    name: str

    def send(self, message: OutgoingSms) -> str | None:
        """Hand the message over; return the provider's reference (if any). Raise SmsDeliveryFailed."""
        ...


class OutboxSender:
    name = "outbox"

    def send(self, message: OutgoingSms) -> str | None:
        return None


class HttpSmsSender:
    name = "http"

    def __init__(
        self, url: str, *, sender_id: str = "Atrium", token: str | None = None, timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.sender_id = sender_id
        self.token = token
        self.timeout_s = timeout_s
        self.transport = transport  # tests pass httpx.MockTransport

    def send(self, message: OutgoingSms) -> str | None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = {
            "to": message.to, "text": message.text, "sender_id": self.sender_id,
            "reference": message.reference,
        }
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.post(self.url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            # The exception's text may quote the URL, never the phone or the text: log its type only.
            log.warning("sms gateway unreachable", error=type(exc).__name__, reference=message.reference)
            raise SmsDeliveryFailed("the SMS gateway could not be reached") from exc
        if not response.is_success:
            log.warning("sms gateway refused", status=response.status_code, reference=message.reference)
            raise SmsDeliveryFailed(f"the SMS gateway answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            return None
        ref = body.get("id") if isinstance(body, dict) else None
        return str(ref)[:120] if ref is not None else None


_override: SmsSender | None = None


def from_settings(settings: Settings) -> SmsSender:
    cfg = settings.notify
    if cfg.sms_sender == "http":
        if not cfg.http_url:
            raise ValueError("notify.http_url is required when notify.sms_sender is 'http'")
        return HttpSmsSender(
            cfg.http_url, sender_id=cfg.sender_id, token=cfg.http_token, timeout_s=cfg.http_timeout_s
        )
    return OutboxSender()


def current() -> SmsSender:
    return _override if _override is not None else from_settings(get_settings())


def use(sender: SmsSender | None) -> SmsSender | None:
    """Install `sender` for this process (tests; None goes back to settings) and return the previous one."""
    global _override
    previous, _override = _override, sender
    return previous
