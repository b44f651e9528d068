"""Push notifications: the Web Push sender (VAPID-signed, payload encrypted for the browser's key — checked
by decrypting it here), what a push service's answers mean, subscriptions per customer, and the sender the
settings choose (production refuses the outbox)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import http_ece
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from atrium.config import PushSettings, Settings
from atrium.notify import push
from atrium.notify import service as notify
from atrium.notify.errors import PushDeliveryFailed, PushSubscriptionGone
from atrium.notify.push import OutgoingPush, PushTarget, WebPushSender

MESSAGE = OutgoingPush(title="账户安全提醒", body="您的账户修改了登录密码。", url="/messages/msg_1",
                       tag="msg_1", category="messages.security")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Browser:
    """A browser's side of a push subscription: its P-256 key pair and auth secret."""

    def __init__(self, endpoint: str = "https://push.example.net/send/abc") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        self.endpoint = endpoint
        raw = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint)
        self.target = PushTarget(endpoint, b64(raw), b64(self.auth))

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


class Response:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.reason = "test"
        self.text = ""
        self.headers = headers or {}


class PushService:
    """A push service (`requests.Session`-like): records what it was sent, answers `status`."""

    def __init__(self, status: int = 201, error: Exception | None = None) -> None:
        self.status = status
        self.error = error
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, data: bytes, headers: dict[str, str], timeout: float) -> Response:
        self.posts.append({"url": url, "data": data, "headers": dict(headers), "timeout": timeout})
        if self.error is not None:
            raise self.error
        return Response(self.status, {"Location": "https://push.example.net/m/42"})


@pytest.fixture()
def keys() -> tuple[str, str]:
    return push.generate_vapid_keys()


def sender(keys: tuple[str, str], service: PushService) -> WebPushSender:
    return WebPushSender(keys[0], subject="mailto:ops@bank.example", ttl_s=3600, timeout_s=2.0,
                         requests_session=service)


def test_web_push_is_signed_and_only_the_browser_can_read_it(keys) -> None:  # type: ignore[no-untyped-def]
    service, browser = PushService(), Browser()
    ref = sender(keys, service).send(browser.target, MESSAGE)
    assert ref == "https://push.example.net/m/42"
    (post,) = service.posts
    assert post["url"] == browser.endpoint and post["timeout"] == 2.0
    headers = {k.lower(): v for k, v in post["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm" and headers["ttl"] == "3600"
    assert headers["authorization"].startswith("vapid t=") and f"k={keys[1]}" in headers["authorization"]
    assert "账户" not in post["data"].decode("latin-1")  # encrypted on the wire
    assert browser.decrypt(post["data"]) == {"title": "账户安全提醒", "body": "您的账户修改了登录密码。",
                                             "url": "/messages/msg_1", "tag": "msg_1"}
    assert Browser().target != browser.target
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure: another browser's key cannot read it
        Browser().decrypt(post["data"])


@pytest.mark.parametrize(("status", "error"), [(404, PushSubscriptionGone), (410, PushSubscriptionGone),
                                               (429, PushDeliveryFailed), (500, PushDeliveryFailed)])
def test_what_a_push_service_answer_means(keys, status: int, error: type[Exception]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        sender(keys, PushService(status)).send(Browser().target, MESSAGE)


def test_an_unreachable_push_service_is_a_retryable_failure(keys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PushDeliveryFailed):
        sender(keys, PushService(error=requests.ConnectionError("down"))).send(Browser().target, MESSAGE)


def test_a_pem_key_works_too_and_the_public_key_is_derived(keys) -> None:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    raw = key.public_key().public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    assert push.public_key_of(pem) == b64(raw)
    assert push.public_key_of(keys[0]) == keys[1]


@pytest.fixture()
def web_push(keys) -> Iterator[PushService]:  # type: ignore[no-untyped-def]
    service = PushService()
    previous = push.use(sender(keys, service))
    yield service
    push.restore(previous)


def test_send_push_reaches_every_browser_and_revokes_gone_ones(session, web_push) -> None:  # type: ignore[no-untyped-def]
    phone, laptop = Browser("https://push.example.net/a"), Browser("https://push.example.net/b")
    for b in (phone, laptop):
        notify.subscribe_push(session, customer_id="cus_1", endpoint=b.endpoint, p256dh=b.target.p256dh,
                              auth=b.target.auth)
    outcome = notify.send_push(session, customer_id="cus_1", title="t", body="b", url="/messages", tag="m1",
                               category="messages.service")
    assert (outcome.devices, outcome.delivered, outcome.retry) == (2, 2, False)
    assert phone.decrypt(web_push.posts[0]["data"])["title"] == "t"
    assert laptop.decrypt(web_push.posts[1]["data"])["tag"] == "m1"
    web_push.status = 410
    outcome = notify.send_push(session, customer_id="cus_1", title="t", body="b", url="/messages", tag="m2",
                               category="messages.service")
    assert (outcome.gone, outcome.delivered) == (2, 0) and not outcome.retry
    assert notify.push_subscriptions(session, "cus_1") == []
    assert len(notify.push_outbox(session)) == 2  # only deliveries are recorded


def test_a_browser_used_by_another_customer_moves_to_them(session) -> None:  # type: ignore[no-untyped-def]
    b = Browser()
    first = notify.subscribe_push(session, customer_id="cus_1", endpoint=b.endpoint, p256dh=b.target.p256dh,
                                  auth=b.target.auth)
    notify.unsubscribe_push(session, customer_id="cus_1", subscription_id=first.id)
    moved = notify.subscribe_push(session, customer_id="cus_2", endpoint=b.endpoint, p256dh=b.target.p256dh,
                                  auth=b.target.auth, device_label="Chrome")
    assert moved.id == first.id and moved.revoked_at is None
    assert notify.push_subscriptions(session, "cus_1") == [] and notify.push_subscriptions(session, "cus_2")


def test_the_sender_follows_the_settings() -> None:
    assert isinstance(push.from_settings(PushSettings(), "development"), push.OutboxPushSender)
    assert push.from_settings(PushSettings(), "production") is None  # unset in production: off
    assert push.from_settings(PushSettings(sender="off"), "development") is None
    with pytest.raises(ValueError, match="vapid_private_key"):
        push.from_settings(PushSettings(sender="webpush"), "development")
    private, public = push.generate_vapid_keys()
    made = push.from_settings(PushSettings(sender="webpush", vapid_private_key=private), "production")
    assert isinstance(made, WebPushSender)


def test_production_refuses_the_push_outbox_and_webpush_without_keys() -> None:
    secure = {"secret_key": "x" * 48, "pii_key": base64.b64encode(b"k" * 32).decode(), "cookie_secure": True}
    gateway = {"sms_sender": "http", "http_url": "https://sms.example.net/send"}
    with pytest.raises(ValidationError, match="PUSH__SENDER"):
        Settings(env="production", security=secure, notify=gateway, push={"sender": "outbox"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="VAPID"):
        Settings(env="production", security=secure, notify=gateway, push={"sender": "webpush"})  # type: ignore[arg-type]
    private, public = push.generate_vapid_keys()
    ok = Settings(env="production", security=secure, notify=gateway,  # type: ignore[arg-type]
                  push={"sender": "webpush", "vapid_private_key": private, "vapid_public_key": public})
    assert ok.push.sender == "webpush"


def test_a_long_body_is_shortened_to_fit_a_push_payload() -> None:
    long = OutgoingPush(title="t", body="很长" * 600, url="/messages/m", tag="m", category="c")
    payload = json.loads(long.payload())
    assert len(payload["body"]) == push.PAYLOAD_BODY_MAX and payload["body"].endswith("…")
    assert len(long.payload().encode()) < 3000
