"""SMS one-time codes: single use, 5 minutes, 5 tries, bound to an action, rate limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from atrium.identity.otp import service as otp
from atrium.identity.otp.errors import InvalidCode, TooManyCodes
from atrium.identity.otp.models import OtpCode
from atrium.notify import service as notify
from tests.identity.otp.support import last_code, wrong

PHONE = "+8613812345678"


def test_issue_then_verify(session, frozen):
    issued = otp.issue(session, phone=PHONE, purpose="login")
    assert issued.recipient_masked == "138****5678"
    assert issued.expires_in == 300 and issued.resend_after == 60
    code = last_code(session, PHONE)
    otp.verify(session, phone=PHONE, purpose="login", code=code)
    row = session.get(OtpCode, issued.id)
    assert row.used_at is not None
    assert code not in row.code_hash and len(row.code_hash) == 64  # only an HMAC is kept


def test_the_text_says_what_the_code_is_for_and_to_tell_nobody(session, frozen):
    otp.issue(session, phone=PHONE, purpose="step-up", binding="d" * 64, summary="转账 ¥6,000.00 至 …1234")
    zh = notify.outbox(session, phone=PHONE, limit=1)[0].body
    assert "转账 ¥6,000.00 至 …1234" in zh and "请勿将验证码告诉任何人" in zh and "[Atrium 核验码 " in zh
    frozen.set(frozen.now() + timedelta(minutes=2))
    otp.issue(session, phone=PHONE, purpose="login", locale="en")
    en = notify.outbox(session, phone=PHONE, limit=1)[0].body
    assert "sign-in code" in en and "Never tell anyone this code" in en and "[Atrium verification ref " in en


def test_a_wrong_code_is_refused(session, frozen):
    otp.issue(session, phone=PHONE, purpose="login")
    code = last_code(session, PHONE)
    with pytest.raises(InvalidCode) as caught:
        otp.verify(session, phone=PHONE, purpose="login", code=wrong(code))
    assert caught.value.status == 401 and caught.value.extra["attempts_left"] == 4
    otp.verify(session, phone=PHONE, purpose="login", code=code)  # the right one still works


def test_an_expired_code_is_refused(session, frozen):
    otp.issue(session, phone=PHONE, purpose="login")
    code = last_code(session, PHONE)
    frozen.set(frozen.now() + timedelta(minutes=5))
    with pytest.raises(InvalidCode):
        otp.verify(session, phone=PHONE, purpose="login", code=code)


def test_a_code_verifies_only_once(session, frozen):
    otp.issue(session, phone=PHONE, purpose="login")
    code = last_code(session, PHONE)
    otp.verify(session, phone=PHONE, purpose="login", code=code)
    with pytest.raises(InvalidCode):
        otp.verify(session, phone=PHONE, purpose="login", code=code)


def test_the_binding_and_the_purpose_must_match(session, frozen):
    otp.issue(session, phone=PHONE, purpose="step-up", binding="challenge-a")
    code = last_code(session, PHONE)
    with pytest.raises(InvalidCode):
        otp.verify(session, phone=PHONE, purpose="step-up", code=code, binding="challenge-b")
    with pytest.raises(InvalidCode):
        otp.verify(session, phone=PHONE, purpose="login", code=code, binding="challenge-a")
    otp.verify(session, phone=PHONE, purpose="step-up", code=code, binding="challenge-a")


def test_five_wrong_tries_kill_the_code(session, frozen):
    otp.issue(session, phone=PHONE, purpose="login")
    code = last_code(session, PHONE)
    for _ in range(otp.MAX_ATTEMPTS):
        with pytest.raises(InvalidCode):
            otp.verify(session, phone=PHONE, purpose="login", code="000000" if code != "000000" else "111111")
    with pytest.raises(InvalidCode):
        otp.verify(session, phone=PHONE, purpose="login", code=code)


def test_a_rolled_back_try_is_counted_again_with_record_failure(db, frozen):
    with db.unit_of_work() as s:
        otp.issue(s, phone=PHONE, purpose="login")
        code = last_code(s, PHONE)
    for _ in range(otp.MAX_ATTEMPTS):
        with pytest.raises(InvalidCode) as caught, db.unit_of_work() as s:
            otp.verify(s, phone=PHONE, purpose="login", code=wrong(code))
        with db.unit_of_work() as s:  # the edge's transaction rolled back: count the try in a new one
            otp.record_failure(s, caught.value.code_id)
    with pytest.raises(InvalidCode), db.unit_of_work() as s:
        otp.verify(s, phone=PHONE, purpose="login", code=code)


def test_a_new_code_replaces_the_old_one(session, frozen):
    otp.issue(session, phone=PHONE, purpose="login")
    old = last_code(session, PHONE)
    frozen.set(frozen.now() + timedelta(seconds=61))
    otp.issue(session, phone=PHONE, purpose="login")
    new = last_code(session, PHONE)
    if old != new:
        with pytest.raises(InvalidCode):
            otp.verify(session, phone=PHONE, purpose="login", code=old)
    otp.verify(session, phone=PHONE, purpose="login", code=new)


def test_one_code_a_minute_per_phone_and_purpose(session, frozen):
    otp.issue(session, phone=PHONE, purpose="login")
    frozen.set(frozen.now() + timedelta(seconds=20))
    with pytest.raises(TooManyCodes) as caught:
        otp.issue(session, phone=PHONE, purpose="login")
    assert caught.value.status == 429 and caught.value.extra["retry_after"] == 40
    otp.issue(session, phone=PHONE, purpose="register")  # another purpose is another queue
    frozen.set(frozen.now() + timedelta(seconds=40))
    otp.issue(session, phone=PHONE, purpose="login")


def test_five_codes_an_hour_per_phone(session, frozen):
    start = frozen.now()
    for i in range(otp.HOURLY_CAP):
        frozen.set(start + timedelta(minutes=2 * i))
        otp.issue(session, phone=PHONE, purpose="login")
    frozen.set(start + timedelta(minutes=20))
    with pytest.raises(TooManyCodes) as caught:
        otp.issue(session, phone=PHONE, purpose="step-up")
    assert caught.value.extra["retry_after"] == 40 * 60  # when the first code is an hour old
    otp.issue(session, phone="+8613900001111", purpose="login")  # other phones are not affected
    frozen.set(start + timedelta(hours=1, seconds=1))
    otp.issue(session, phone=PHONE, purpose="login")


def test_unknown_purposes_are_refused(session, frozen):
    with pytest.raises(Exception, match="unknown purpose"):
        otp.issue(session, phone=PHONE, purpose="anything")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tries=st.lists(st.one_of(st.just("right"), st.text(alphabet="0123456789", min_size=0, max_size=7)),
                      min_size=1, max_size=12))
def test_a_code_verifies_at_most_once_whatever_is_tried(session, frozen, tries):
    frozen.set(frozen.now() + timedelta(hours=2))  # a fresh rate-limit window for each example
    phone = "+8613700000000"
    otp.issue(session, phone=phone, purpose="login")
    code = last_code(session, phone)
    alive, attempts, accepted = True, 0, 0  # the model the service must follow
    for attempt in tries:
        guess = code if attempt == "right" else attempt
        expected = alive and guess == code
        try:
            otp.verify(session, phone=phone, purpose="login", code=guess)
            outcome = True
        except InvalidCode:
            outcome = False
        assert outcome == expected
        if alive and expected:
            alive, accepted = False, accepted + 1
        elif alive:
            attempts += 1
            alive = attempts < otp.MAX_ATTEMPTS
    assert accepted <= 1
    row = session.scalar(select(OtpCode).order_by(OtpCode.created_at.desc()).limit(1))
    assert row.attempts <= otp.MAX_ATTEMPTS
