"""Tables of QR pay: merchants' signing keys and the record of every QR payment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base, MinorUnits
from atrium.kit import clock


class QrKey(Base):
    """A merchant's Ed25519 signing key. The newest unretired one signs; any unretired one verifies."""

    __tablename__ = "qr_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # qrk_…, named in every payload
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url
    sealed_seed: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM nonce + ciphertext + tag
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    retired_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_qr_keys_merchant", "merchant_id", "id"),)


class QrPayment(Base):
    """One payment of a QR code, written in the same transaction as its transfer.

    `once_reference` is the order reference of a fixed-amount code (NULL for an open-amount one, which
    many customers may pay): the unique (merchant, once_reference) index makes "paid once" hold even for
    two customers paying the same code at the same moment.
    """

    __tablename__ = "qr_payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # qrp_…
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    key_id: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(64))
    once_reference: Mapped[str | None] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    transfer_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (
        UniqueConstraint("merchant_id", "once_reference", name="uq_qr_payments_merchant_once_reference"),
        UniqueConstraint("customer_id", "idempotency_key", name="uq_qr_payments_customer_idempotency_key"),
        Index("ix_qr_payments_merchant_created", "merchant_id", "created_at"),
    )
