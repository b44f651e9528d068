"""A newly bound device pays under the cooling-off caps for its first 24 hours, whatever the bank's and
the customer's own limits allow; other sessions of the same customer are not affected."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from atrium.accounts import service as accounts
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.limits import domain
from atrium.limits.domain import Bound, Effective
from tests.auth_support import last_code, phone_for
from tests.web.mobile.factories import deposit

PASSWORD = "correct horse battery"


def _public_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return base64.b64encode(
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()


@pytest.fixture()
def world(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        mei = identity.create_customer(
            s, username="mei", password=PASSWORD, display_name="王美", phone=phone_for("mei")
        )
        lei = identity.create_customer(
            s, username="lei", password=PASSWORD, display_name="李雷", phone=phone_for("lei")
        )
        source = accounts.open_account(s, customer_id=mei.id, product="current", currency="CNY")
        target = accounts.open_account(s, customer_id=lei.id, product="current", currency="CNY")
    deposit(db, source, 50_000_00)
    return source, target


def _sign_in(client, device_key: str | None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    body = {"username": "mei", "password": PASSWORD} | (
        {"device": {"public_key": device_key}} if device_key else {}
    )
    ticket = client.post("/api/v1/auth/login", json=body).json()["ticket"]
    client.post("/api/v1/auth/login/second-factor/sms", json={"ticket": ticket})
    done = client.post(
        "/api/v1/auth/login/second-factor",
        json={"ticket": ticket, "method": "sms", "code": last_code(phone_for("mei"))},
    ).json()
    client.cookies.clear()
    return {"Authorization": f"Bearer {done['token']}"}


def _pay(client, headers, world, amount: int, key: str):  # type: ignore[no-untyped-def]
    source, target = world
    return client.post(
        "/api/v1/transfers",
        headers={**headers, "Idempotency-Key": key},
        json={
            "from_account_id": source.id,
            "amount_minor": amount,
            "currency": "CNY",
            "to": {"type": "atrium", "account_number": target.number},
        },
    )


def test_a_new_device_pays_at_most_the_cooling_off_caps(client, world) -> None:  # type: ignore[no-untyped-def]
    new_device = _sign_in(client, _public_key())
    refused = _pay(client, new_device, world, 2_500_00, "cool-0001")
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("limit-exceeded")
    assert (problem["limit"], problem["scope"]) == ("per_transaction", "new_device")
    assert _pay(client, new_device, world, 2_000_00, "cool-0002").status_code == 201
    assert _pay(client, new_device, world, 2_000_00, "cool-0003").status_code == 201
    over = _pay(client, new_device, world, 1_500_00, "cool-0004")
    assert over.status_code == 422 and over.json()["limit"] == "daily"
    assert over.json()["remaining_minor"] == 1_000_00
    # A session without a newly bound device (e.g. an API client) keeps the ordinary limits. (A minute
    # later: one sign-in code a minute per phone.)
    previous = clock.use(clock.FrozenClock(clock.now() + timedelta(seconds=61)))
    try:
        assert _pay(client, _sign_in(client, None), world, 2_500_00, "cool-0005").status_code == 201
    finally:
        clock.use(previous)


def test_the_caps_only_ever_tighten() -> None:
    generous = Effective(Bound(50_000_00, "bank"), Bound(100_000_00, "bank"), Bound(1_000_000_00, "bank"))
    cooled = domain.cooled(generous, "CNY")
    assert (cooled.per_transaction, cooled.daily) == (
        Bound(2_000_00, "new_device"),
        Bound(5_000_00, "new_device"),
    )
    assert cooled.monthly == generous.monthly
    tight = Effective(Bound(1_000_00, "customer"), Bound(3_000_00, "customer"), Bound(10_000_00, "bank"))
    assert domain.cooled(tight, "CNY") == tight
