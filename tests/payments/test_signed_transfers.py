"""Device-signed transfers ("cloud certificate"): the device's signature over payee, amount, currency, time
and nonce is verified before any money moves and kept with the transfer; any element changed on the way —
the amount, the payee — refuses the transfer and moves nothing."""

from __future__ import annotations

import secrets

import pytest

from atrium.accounts import service as accounts
from atrium.identity import service as identity
from atrium.identity.devices import service as devices
from atrium.identity.devices.models import TransactionSignature
from atrium.kit import clock
from atrium.payments import service as payments
from atrium.payments.schemas import AtriumDestination
from tests.auth_support import api_login, phone_for
from tests.identity.devices.keys import SoftDevice, iso
from tests.web.mobile.factories import deposit

PASSWORD = "correct horse battery"


@pytest.fixture()
def world(db):  # type: ignore[no-untyped-def]
    key = SoftDevice()
    with db.unit_of_work() as s:
        mei = identity.create_customer(
            s, username="mei", password=PASSWORD, display_name="王美", phone=phone_for("mei")
        ).id
        lei = identity.create_customer(s, username="lei", password=PASSWORD, display_name="李雷").id
        source = accounts.open_account(s, customer_id=mei, product="current", currency="CNY")
        target = accounts.open_account(s, customer_id=lei, product="current", currency="CNY")
        device = devices.register_device(
            s, customer_id=mei, public_key=key.public_key, name="", user_agent=""
        )
        devices.mark_trusted(s, device.id)
    deposit(db, source, 10_000_00)
    return {"key": key, "device": device.id, "source": source, "target": target, "lei": lei}


def _signed(world, *, amount: int, payee_number: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    payee = payments.signing_payee(
        AtriumDestination(type="atrium", account_number=payee_number or world["target"].number)
    )
    elements = {
        "payee": payee,
        "amount_minor": str(amount),
        "currency": "CNY",
        "time": iso(clock.now()),
        "nonce": secrets.token_urlsafe(16),
    }
    return {
        "device_id": world["device"],
        "time": elements["time"],
        "nonce": elements["nonce"],
        "signature": world["key"].sign(elements),
    }


def _pay(client, headers, world, amount: int, signature: dict[str, str], key: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/transfers",
        headers={**headers, "Idempotency-Key": key},
        json={
            "from_account_id": world["source"].id,
            "amount_minor": amount,
            "currency": "CNY",
            "to": {"type": "atrium", "account_number": world["target"].number},
            "signature": signature,
        },
    )


def test_a_signed_transfer_is_verified_and_kept(client, db, world):  # type: ignore[no-untyped-def]
    headers = api_login(client, "mei", PASSWORD)
    r = _pay(client, headers, world, 120_00, _signed(world, amount=120_00), "signed-0001")
    assert r.status_code == 201, r.text
    with db.read_session() as s:
        kept = s.query(TransactionSignature).one()
        assert kept.reference == r.json()["id"] and kept.device_id == world["device"]
        assert kept.elements["amount_minor"] == "12000"


@pytest.mark.parametrize("tamper", ["amount", "payee", "replay"])
def test_a_changed_element_refuses_the_transfer_and_moves_nothing(client, db, world, tamper):  # type: ignore[no-untyped-def]
    headers = api_login(client, "mei", PASSWORD)
    signature = _signed(world, amount=120_00)
    if tamper == "replay":
        assert _pay(client, headers, world, 120_00, signature, "tamper-0001").status_code == 201
        r = _pay(
            client, headers, world, 120_00, signature, "tamper-0002"
        )  # the same signature, a new payment
    elif tamper == "amount":
        r = _pay(client, headers, world, 9_000_00 // 2, signature, "tamper-0001")  # signed 120.00, asks 4,500
    else:
        other = _signed(world, amount=120_00, payee_number="6222880000000000009")
        r = _pay(client, headers, world, 120_00, other, "tamper-0001")  # signed for another account
    assert r.status_code == 422 and r.json()["type"].endswith("signature-invalid"), r.text
    with db.read_session() as s:
        received = accounts.get_owned(
            s, customer_id=world["lei"], account_id=world["target"].id
        ).available_minor
    assert received == (120_00 if tamper == "replay" else 0)
