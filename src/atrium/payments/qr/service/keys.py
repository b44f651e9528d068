"""Merchants' QR signing keys: created on first use, rotated on demand, seeds sealed at rest."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from atrium.config import get_settings
from atrium.kit import clock
from atrium.kit.ids import new_id
from atrium.payments.merchants import service as merchants
from atrium.payments.qr import signing
from atrium.payments.qr.errors import QrKeyUnavailable
from atrium.payments.qr.models import QrKey
from atrium.payments.qr.schemas import QrKeyRead


def _wrap_key() -> bytes:
    return signing.wrapping_key(get_settings().security.secret_key)


def _read(key: QrKey) -> QrKeyRead:
    return QrKeyRead(key_id=key.id, merchant_id=key.merchant_id, public_key=key.public_key,
                     created_at=key.created_at)


def _new_key(session: Session, merchant_id: str) -> QrKey:
    seed, public = signing.new_key_pair()
    key_id = new_id("qrk")
    key = QrKey(
        id=key_id, merchant_id=merchant_id, public_key=signing.encode_public(public),
        sealed_seed=signing.seal_seed(seed, wrap_key=_wrap_key(), key_id=key_id, merchant_id=merchant_id),
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    return key


def signing_key(session: Session, merchant_id: str) -> tuple[QrKey, bytes]:
    """The merchant's current key and its opened seed; a key is created on the merchant's first code."""
    key = session.scalar(
        select(QrKey).where(QrKey.merchant_id == merchant_id, QrKey.retired_at.is_(None))
        .order_by(QrKey.id.desc()).limit(1)
    )
    if key is None:
        key = _new_key(session, merchant_id)
    try:
        seed = signing.open_seed(
            key.sealed_seed, wrap_key=_wrap_key(), key_id=key.id, merchant_id=merchant_id
        )
    except signing.SealBroken:
        raise QrKeyUnavailable(
            "the merchant's QR key was sealed under another secret key; rotate the merchant's QR key",
            merchant_id=merchant_id, key_id=key.id,
        ) from None
    return key, seed


def rotate_key(session: Session, *, merchant_id: str) -> QrKeyRead:
    """Retire every key of the merchant and make a new one. Codes signed by a retired key stop working
    (a leaked key, a stolen sticker roll)."""
    merchants.get_public(session, merchant_id)  # 404 for an unknown merchant
    session.execute(
        update(QrKey).where(QrKey.merchant_id == merchant_id, QrKey.retired_at.is_(None))
        .values(retired_at=clock.now())
    )
    return _read(_new_key(session, merchant_id))


def verifying_key(session: Session, key_id: str) -> QrKey | None:
    return session.get(QrKey, key_id)
