"""Text messages: the reference code, the outbox, the anti-phishing look-up, recipients never in clear."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from atrium.notify import senders
from atrium.notify import service as notify
from atrium.notify.domain import (
    VERIFY_ALPHABET,
    mask_phone,
    new_verify_code,
    normalise_phone,
    normalise_verify_code,
)
from atrium.notify.errors import InvalidPhone, SmsDeliveryFailed

PHONE = "13812345678"
CODE = re.compile(r"\[Atrium 核验码 ([2-9A-Z]{4}-[2-9A-Z]{4})\]$")


def test_a_message_carries_a_reference_code_the_bank_can_confirm(session):
    sent = notify.send_sms(session, phone=PHONE, text="您的账户有一笔转账。", category="security.alert")
    match = CODE.search(sent.body)
    assert match and match.group(1) == sent.verify_code
    assert sent.body.startswith("您的账户有一笔转账。")
    assert notify.find_by_verify_code(session, sent.verify_code.lower().replace("-", " ")) is sent
    assert notify.find_by_verify_code(session, "ABCD-EFGH") is None  # never sent
    assert notify.find_by_verify_code(session, "not a code") is None


def test_english_messages_say_so_in_english(session):
    sent = notify.send_sms(session, phone=PHONE, text="Your card was used.", category="security.alert",
                           locale="en")
    assert sent.body == f"Your card was used. [Atrium verification ref {sent.verify_code}]"


def test_the_recipient_is_stored_as_a_blind_index_and_a_mask_only(session):
    sent = notify.send_sms(session, phone="+86 138-1234-5678", text="hi", category="t", customer_id="cus_1")
    assert sent.recipient_masked == "138****5678"
    assert sent.recipient_hash == notify.recipient_index(PHONE) != PHONE
    session.flush()
    row = session.execute(text("SELECT * FROM notify_messages")).mappings().one()
    assert not any("12345678" in str(value) for key, value in row.items() if key != "body")


def test_the_outbox_lists_the_latest_first_and_filters_by_phone(session):
    first = notify.send_sms(session, phone=PHONE, text="one", category="t")
    notify.send_sms(session, phone="13900001111", text="other", category="t")
    second = notify.send_sms(session, phone=PHONE, text="two", category="t")
    mine = notify.outbox(session, phone=PHONE)
    assert [m.id for m in mine] == [second.id, first.id]
    assert len(notify.outbox(session)) == 3
    assert len(notify.outbox(session, limit=1)) == 1


def test_a_number_that_is_not_a_phone_is_refused(session):
    with pytest.raises(InvalidPhone):
        notify.send_sms(session, phone="call me", text="x", category="t")


class _Gateway:
    def __init__(self, status: int = 200, fail: bool = False) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.fail = fail

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            raise httpx.ConnectTimeout("timed out", request=request)
        return httpx.Response(self.status, json={"id": "gw-123"})


@pytest.fixture()
def gateway():  # type: ignore[no-untyped-def]
    gw = _Gateway()
    previous = senders.use(senders.HttpSmsSender("https://sms.example/send", sender_id="AtriumBank",
                                                 token="t0k", transport=httpx.MockTransport(gw)))
    yield gw
    senders.use(previous)


def test_the_http_sender_posts_json_and_redacts_secrets_at_rest(session, gateway):
    sent = notify.send_sms(session, phone=PHONE, text="验证码 424242，5分钟内有效。", category="otp.login",
                           redact=["424242"])
    request = gateway.requests[0]
    body = request.read().decode()
    assert request.headers["authorization"] == "Bearer t0k"
    assert '"to":"+8613812345678"' in body.replace(" ", "") and "424242" in body
    assert sent.verify_code in body and "AtriumBank" in body
    assert sent.sender == "http" and sent.provider_ref == "gw-123"
    assert "424242" not in sent.body and "••••••" in sent.body


def test_gateway_failures_are_a_domain_error(session, gateway):
    gateway.status = 503
    with pytest.raises(SmsDeliveryFailed):
        notify.send_sms(session, phone=PHONE, text="x", category="t")
    gateway.fail = True
    with pytest.raises(SmsDeliveryFailed) as caught:
        notify.send_sms(session, phone=PHONE, text="x", category="t")
    assert caught.value.status == 502


def test_settings_choose_the_sender():
    from atrium.config import Settings

    assert isinstance(senders.from_settings(Settings()), senders.OutboxSender)
    http = senders.from_settings(Settings(notify={"sms_sender": "http", "http_url": "https://gw.example/sms",
                                                  "http_timeout_s": 2.5}))
    assert isinstance(http, senders.HttpSmsSender) and http.url == "https://gw.example/sms"
    assert http.timeout_s == 2.5
    with pytest.raises(ValueError):
        senders.from_settings(Settings(notify={"sms_sender": "http"}))


@given(st.integers(min_value=0, max_value=50))
def test_reference_codes_are_well_formed_and_round_trip(_: int) -> None:
    code = new_verify_code()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    assert all(ch in VERIFY_ALPHABET for ch in code.replace("-", ""))
    assert normalise_verify_code(code.lower()) == code


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mainland_numbers_normalise_and_mask(number: str) -> None:
    e164 = normalise_phone(number)
    assert e164 == "+86" + number
    assert mask_phone(e164) == f"{number[:3]}****{number[-4:]}"
