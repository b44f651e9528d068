"""Issue a signed QR code for a merchant; parse and verify one a customer scanned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.payments import domain as payments_domain
from atrium.payments.domain import RuleBroken
from atrium.payments.errors import CurrencyMismatch
from atrium.payments.merchants import service as merchants
from atrium.payments.merchants.errors import (
    MerchantCurrencyNotAccepted,
    MerchantNotActive,
    MerchantNotFound,
)
from atrium.payments.merchants.schemas import MerchantPublic
from atrium.payments.qr import render, signing
from atrium.payments.qr.errors import (
    InvalidQrRequest,
    QrBadSignature,
    QrExpired,
    QrMalformed,
    QrMerchantUnavailable,
    QrRevoked,
)
from atrium.payments.qr.models import QrPayment
from atrium.payments.qr.schemas import DEFAULT_TTL_S, MAX_TTL_S, MIN_TTL_S, QrDetails, QrIssued
from atrium.payments.qr.service.keys import signing_key, verifying_key


@dataclass(frozen=True, slots=True)
class Verified:
    """A payload whose signature verified with its merchant's key, and what it takes to pay it."""

    claims: signing.Claims
    merchant: MerchantPublic
    ledger_account_id: str  # the merchant's settlement account in the code's currency

    @property
    def fixed(self) -> bool:
        return self.claims.a is not None


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _check_reference(reference: str) -> str:
    cleaned = (reference or "").strip()
    if not 1 <= len(cleaned) <= signing.REFERENCE_MAX or not cleaned.isprintable():
        raise InvalidQrRequest(f"a reference is 1 to {signing.REFERENCE_MAX} printable characters")
    return cleaned


def issue_qr(
    session: Session, *, merchant_id: str, currency: str, reference: str, amount_minor: int | None = None,
    ttl: timedelta = timedelta(seconds=DEFAULT_TTL_S),
) -> QrIssued:
    """A signed payload (and its SVG) for `merchant_id`. With `amount_minor` the code is for one order
    (payable once); without, the customer enters the amount (a shop's standing code)."""
    reference = _check_reference(reference)
    if amount_minor is not None:
        try:
            payments_domain.check_amount(amount_minor)
        except RuleBroken as exc:
            raise InvalidQrRequest(str(exc)) from None
    ttl_s = int(ttl.total_seconds())
    if not MIN_TTL_S <= ttl_s <= MAX_TTL_S:
        raise InvalidQrRequest(f"a QR code lives {MIN_TTL_S} s to {MAX_TTL_S} s")
    merchants.payable_account(session, merchant_id=merchant_id, currency=currency)  # active, accepts it
    key, seed = signing_key(session, merchant_id)
    issued = _unix(clock.now())
    claims = signing.Claims(
        v=1, m=merchant_id, k=key.id, a=amount_minor, c=currency, r=reference, t=issued, x=issued + ttl_s,
        n=signing.new_nonce(),
    )
    payload = signing.sign(claims, seed)
    return QrIssued(
        payload=payload, merchant_id=merchant_id, key_id=key.id, amount_minor=amount_minor, currency=currency,
        reference=reference, issued_at=_at(claims.t), expires_at=_at(claims.x), svg=render.svg(payload),
    )


def verify(session: Session, payload: str, *, expired_ok: bool = False) -> Verified:
    """Check a payload in an order that trusts nothing unsigned: shape, then the signature with the key the
    payload names (which must be the named merchant's), then revocation, expiry and the merchant.
    `expired_ok`: for disowning a payment ("this wasn't me"), which pays nothing, so a code that ran out
    while the customer read the challenge can still be reported."""
    try:
        claims, signing_input, signature = signing.split(payload)
    except signing.MalformedPayload as exc:
        raise QrMalformed(f"this is not an Atrium QR code ({exc})") from None
    key = verifying_key(session, claims.k)
    genuine = (
        key is not None and key.merchant_id == claims.m
        and signing.verify(key.public_key, signing_input, signature)
    )
    if key is None or not genuine:
        raise QrBadSignature("the QR code was altered or not issued by Atrium; do not pay it")
    if key.retired_at is not None:
        raise QrRevoked("the merchant has revoked this QR code; ask for a new one")
    if not expired_ok and _unix(clock.now()) >= claims.x:
        raise QrExpired(f"the QR code expired at {_at(claims.x).isoformat()}; ask for a new one",
                        expired_at=_at(claims.x).isoformat())
    try:
        merchant, ledger_account_id = merchants.payable_account(
            session, merchant_id=claims.m, currency=claims.c
        )
    except (MerchantNotFound, MerchantNotActive):
        raise QrMerchantUnavailable("the merchant is not accepting payments", merchant_id=claims.m) from None
    except MerchantCurrencyNotAccepted:
        raise CurrencyMismatch(f"the merchant no longer accepts {claims.c}", currency=claims.c) from None
    return Verified(claims=claims, merchant=merchant, ledger_account_id=ledger_account_id)


def already_paid(session: Session, v: Verified) -> bool:
    if not v.fixed:
        return False
    return session.scalar(
        select(QrPayment.id)
        .where(QrPayment.merchant_id == v.claims.m, QrPayment.once_reference == v.claims.r)
    ) is not None


def parse_qr(session: Session, payload: str, *, expired_ok: bool = False) -> QrDetails:
    """The verified content of a scanned code for the confirm screen, or a 422 problem saying why not
    (`expired_ok`: as for `verify`)."""
    v = verify(session, payload, expired_ok=expired_ok)
    return QrDetails(
        merchant=v.merchant, amount_minor=v.claims.a, currency=v.claims.c, reference=v.claims.r,
        issued_at=_at(v.claims.t), expires_at=_at(v.claims.x), already_paid=already_paid(session, v),
    )

