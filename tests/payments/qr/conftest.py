"""QR fixtures: an active grocer accepting CNY, and helpers to issue and tamper with codes."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from atrium.payments.merchants.schemas import MerchantRead
from atrium.payments.qr import service as qr
from tests.payments.merchants import factories as mf


@pytest.fixture()
def shop(db) -> MerchantRead:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return mf.merchant(s, name="Corner Grocer", category="groceries")


def issue(
    db,
    merchant_id: str,
    *,
    amount: int | None = 1_250,
    currency: str = "CNY",  # type: ignore[no-untyped-def]
    reference: str = "order-1",
    ttl: timedelta = timedelta(minutes=15),
) -> str:
    with db.unit_of_work() as s:
        return qr.issue_qr(
            s, merchant_id=merchant_id, currency=currency, reference=reference, amount_minor=amount, ttl=ttl
        ).payload


def retamper(payload: str, **changes: object) -> str:
    """The payload with some claims changed, the original signature kept (what a fraudster can do)."""
    prefix, body, sig = payload.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    return f"{prefix}.{base64.urlsafe_b64encode(raw).decode().rstrip('=')}.{sig}"


def claims_of(payload: str) -> dict:
    body = payload.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
