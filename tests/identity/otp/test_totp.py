"""Authenticator apps: sealed secret, confirmed enrolment, ±1 step of drift, no replay."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select

from atrium.identity import service as identity
from atrium.identity.otp import totp
from atrium.identity.otp.errors import InvalidCode, TotpAlreadyEnrolled, TotpNotEnrolled, TotpNotEnrolling
from atrium.identity.otp.models import TotpCredential


@pytest.fixture()
def customer_id(session) -> str:  # type: ignore[no-untyped-def]
    return identity.create_customer(session, username="mei", password="x" * 12, display_name="王美").id


def _code(secret: str, frozen, steps: int = 0) -> str:  # type: ignore[no-untyped-def]
    return pyotp.TOTP(secret).at(frozen.now() + timedelta(seconds=30 * steps))


def _enrol(session, customer_id, frozen) -> str:  # type: ignore[no-untyped-def]
    secret, _ = totp.begin_enrolment(session, customer_id, "mei")
    totp.confirm_enrolment(session, customer_id, _code(secret, frozen))
    frozen.set(frozen.now() + timedelta(seconds=30))  # the confirming step is spent
    return secret


def test_enrolment_gives_a_sealed_secret_and_an_atrium_uri(session, customer_id, frozen):
    secret, uri = totp.begin_enrolment(session, customer_id, "mei")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Atrium"] and "Atrium:mei" in parsed.path
    row = session.scalar(select(TotpCredential))
    assert secret not in row.secret_enc and row.status == "pending"
    assert not totp.is_enrolled(session, customer_id) and totp.is_pending(session, customer_id)
    assert totp.pending_enrolment(session, customer_id, "mei") == (secret, uri)
    assert totp.qr_svg(uri).startswith("<svg")


def test_enrolment_needs_a_right_first_code(session, customer_id, frozen):
    secret, _ = totp.begin_enrolment(session, customer_id, "mei")
    with pytest.raises(InvalidCode):
        wrong = "000000" if _code(secret, frozen) != "000000" else "111111"
        totp.confirm_enrolment(session, customer_id, wrong)
    assert not totp.is_enrolled(session, customer_id)
    totp.confirm_enrolment(session, customer_id, _code(secret, frozen))
    assert totp.is_enrolled(session, customer_id)
    with pytest.raises(TotpAlreadyEnrolled):
        totp.begin_enrolment(session, customer_id, "mei")
    with pytest.raises(TotpNotEnrolling):
        totp.confirm_enrolment(session, customer_id, _code(secret, frozen))


def test_a_stale_enrolment_must_start_again(session, customer_id, frozen):
    secret, _ = totp.begin_enrolment(session, customer_id, "mei")
    frozen.set(frozen.now() + totp.PENDING_TTL)
    with pytest.raises(TotpNotEnrolling):
        totp.confirm_enrolment(session, customer_id, _code(secret, frozen))


def test_codes_verify_within_one_step_of_drift(session, customer_id, frozen):
    secret = _enrol(session, customer_id, frozen)
    frozen.set(frozen.now() + timedelta(seconds=60))  # past the enrolment's step and the one after it
    totp.verify(session, customer_id, _code(secret, frozen, steps=-1))
    totp.verify(session, customer_id, _code(secret, frozen))
    totp.verify(session, customer_id, _code(secret, frozen, steps=+1))
    frozen.set(frozen.now() + timedelta(minutes=5))
    with pytest.raises(InvalidCode):
        totp.verify(session, customer_id, _code(secret, frozen, steps=-2))
    with pytest.raises(InvalidCode):
        totp.verify(session, customer_id, _code(secret, frozen, steps=+2))


def test_a_code_cannot_be_replayed(session, customer_id, frozen):
    secret = _enrol(session, customer_id, frozen)
    code = _code(secret, frozen)
    totp.verify(session, customer_id, code)
    with pytest.raises(InvalidCode):
        totp.verify(session, customer_id, code)
    with pytest.raises(InvalidCode):  # nor an older step once a newer one was used
        totp.verify(session, customer_id, _code(secret, frozen, steps=-1))


def test_the_confirming_code_cannot_be_replayed(session, customer_id, frozen):
    secret, _ = totp.begin_enrolment(session, customer_id, "mei")
    code = _code(secret, frozen)
    totp.confirm_enrolment(session, customer_id, code)
    with pytest.raises(InvalidCode):
        totp.verify(session, customer_id, code)


def test_removal(session, customer_id, frozen):
    secret = _enrol(session, customer_id, frozen)
    totp.remove(session, customer_id)
    assert not totp.is_enrolled(session, customer_id)
    with pytest.raises(InvalidCode):
        totp.verify(session, customer_id, _code(secret, frozen))
    with pytest.raises(TotpNotEnrolled):
        totp.remove(session, customer_id)


def test_malformed_codes_are_refused(session, customer_id, frozen):
    _enrol(session, customer_id, frozen)
    for code in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        with pytest.raises(InvalidCode):
            totp.verify(session, customer_id, code)
