"""Issuing and verifying QR codes: every kind of bad code is a clear 422 refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.config import get_settings
from atrium.payments.errors import CurrencyMismatch
from atrium.payments.merchants import service as merchants
from atrium.payments.qr import render, signing
from atrium.payments.qr import service as qr
from atrium.payments.qr.errors import (
    InvalidQrRequest,
    QrBadSignature,
    QrExpired,
    QrKeyUnavailable,
    QrMalformed,
    QrMerchantUnavailable,
    QrRevoked,
)
from tests.payments import factories as f
from tests.payments.merchants import factories as mf
from tests.payments.qr.conftest import claims_of, issue, retamper


def test_an_issued_code_parses_to_its_merchant_amount_and_expiry(db, session, shop) -> None:
    issued = qr.issue_qr(
        session,
        merchant_id=shop.id,
        currency="CNY",
        reference="A-17",
        amount_minor=4_200,
        ttl=timedelta(minutes=5),
    )
    assert issued.svg.startswith("<svg") and render.png(issued.payload).startswith(b"\x89PNG")
    details = qr.parse_qr(session, issued.payload)
    assert (details.merchant.id, details.merchant.name, details.merchant.category) == (
        shop.id,
        "Corner Grocer",
        "groceries",
    )
    assert (details.amount_minor, details.currency, details.reference) == (4_200, "CNY", "A-17")
    assert details.expires_at == f.NOON + timedelta(minutes=5) and not details.already_paid
    # Two codes for the same order differ (nonce), and the merchant's one key signs both.
    again = qr.issue_qr(session, merchant_id=shop.id, currency="CNY", reference="A-17", amount_minor=4_200)
    assert again.payload != issued.payload and again.key_id == issued.key_id


def test_an_open_amount_code_has_no_amount(session, shop) -> None:
    issued = qr.issue_qr(session, merchant_id=shop.id, currency="CNY", reference="till-2")
    assert qr.parse_qr(session, issued.payload).amount_minor is None


@pytest.mark.parametrize(
    "change", [{"a": 1}, {"a": 999_999}, {"a": None}, {"r": "order-2"}, {"x": 4_000_000_000}]
)
def test_a_tampered_code_has_a_bad_signature(db, session, shop, change) -> None:
    with pytest.raises(QrBadSignature):
        qr.parse_qr(session, retamper(issue(db, shop.id), **change))


def _parse(db, payload: str):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return qr.parse_qr(s, payload)


def test_a_code_re_pointed_at_another_merchant_is_refused(db, shop) -> None:
    with db.unit_of_work() as s:
        other = mf.merchant(s, name="Fraud Shop")
    other_key = claims_of(issue(db, other.id))["k"]  # the other merchant has a key of its own
    payload = issue(db, shop.id)
    with pytest.raises(QrBadSignature):
        _parse(db, retamper(payload, m=other.id))
    # Naming the other merchant's key as well still fails: that key did not sign these claims.
    with pytest.raises(QrBadSignature):
        _parse(db, retamper(payload, m=other.id, k=other_key))
    with pytest.raises(QrBadSignature):
        _parse(db, retamper(payload, k="qrk_unknown"))


@pytest.mark.parametrize("payload", ["", "not a qr", "ATRQR1.e30.AAAA", "https://example.com/pay?x=1"])
def test_malformed_codes_are_refused(session, payload) -> None:
    with pytest.raises(QrMalformed):
        qr.parse_qr(session, payload)


def test_an_expired_code_is_refused(db, session, shop, frozen) -> None:
    payload = issue(db, shop.id, ttl=timedelta(minutes=15))
    frozen.set(f.NOON + timedelta(minutes=14, seconds=59))
    assert qr.parse_qr(session, payload).amount_minor == 1_250
    frozen.set(f.NOON + timedelta(minutes=15))
    with pytest.raises(QrExpired) as caught:
        qr.parse_qr(session, payload)
    assert caught.value.status == 422


def test_an_inactive_merchant_cannot_be_paid_or_issue_codes(db, session, shop) -> None:
    payload = issue(db, shop.id)
    merchants.set_status(session, merchant_id=shop.id, status="suspended")
    with pytest.raises(QrMerchantUnavailable):
        qr.parse_qr(session, payload)
    with pytest.raises(Exception) as caught:
        qr.issue_qr(session, merchant_id=shop.id, currency="CNY", reference="r")
    assert caught.value.status == 422  # type: ignore[attr-defined]


def test_issuing_checks_currency_reference_amount_and_lifetime(session, shop) -> None:
    with pytest.raises(Exception) as caught:
        qr.issue_qr(session, merchant_id=shop.id, currency="USD", reference="r")
    assert caught.value.status == 422  # type: ignore[attr-defined]
    for kwargs in (
        {"reference": ""},
        {"reference": "x" * 65},
        {"reference": "a\nb"},
        {"amount_minor": 0},
        {"amount_minor": 10**16},
        {"ttl": timedelta(seconds=5)},
        {"ttl": timedelta(days=400)},
    ):
        with pytest.raises(InvalidQrRequest):
            qr.issue_qr(session, merchant_id=shop.id, currency="CNY", **({"reference": "r"} | kwargs))


def test_a_currency_the_merchant_stopped_accepting_is_a_currency_mismatch(db, session, shop) -> None:
    """Only reachable if an account row disappeared; the refusal must still be a 422, not a crash."""
    with db.unit_of_work() as s:
        merchants.open_settlement_account(s, merchant_id=shop.id, currency="USD")
    payload = issue(db, shop.id, currency="USD")
    from atrium.payments.merchants.models import MerchantAccount

    session.delete(session.get(MerchantAccount, (shop.id, "USD")))
    session.flush()
    with pytest.raises(CurrencyMismatch):
        qr.parse_qr(session, payload)


def test_rotating_the_key_revokes_earlier_codes(db, shop) -> None:
    old = issue(db, shop.id)
    with db.unit_of_work() as s:
        new_key = qr.rotate_key(s, merchant_id=shop.id)
    with pytest.raises(QrRevoked):
        _parse(db, old)
    fresh = issue(db, shop.id)
    assert claims_of(fresh)["k"] == new_key.key_id
    assert _parse(db, fresh).reference == "order-1"


def test_a_changed_secret_key_stops_issuing_but_not_verifying(db, session, shop, monkeypatch) -> None:
    payload = issue(db, shop.id)
    monkeypatch.setattr(get_settings().security, "secret_key", "another secret key of enough length!")
    with pytest.raises(QrKeyUnavailable):
        qr.issue_qr(session, merchant_id=shop.id, currency="CNY", reference="r")
    assert qr.parse_qr(session, payload).reference == "order-1"  # public keys need no secret
    qr.rotate_key(session, merchant_id=shop.id)
    assert signing.split(qr.issue_qr(session, merchant_id=shop.id, currency="CNY", reference="r").payload)
