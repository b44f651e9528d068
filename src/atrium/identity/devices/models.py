"""Tables of bound devices, the transaction signatures they made, and spent nonces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class Device(Base):
    """A browser or app bound to a customer by an ECDSA P-256 key pair whose private half never leaves it
    (WebCrypto, non-extractable). Trusted once the sign-in that bound it passed a second factor; during the
    cooling-off period after binding, payments run under lower limits. Revoked devices stay, for audit."""

    __tablename__ = "identity_devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    public_key: Mapped[str] = mapped_column(String(200))  # base64 SubjectPublicKeyInfo (DER)
    key_digest: Mapped[str] = mapped_column(String(64))  # sha256 hex of the SPKI, to find a key again
    name: Mapped[str] = mapped_column(String(80))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    trusted_at: Mapped[datetime | None] = mapped_column(default=None)
    cooling_off_until: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_identity_devices_customer", "customer_id", "key_digest"),)


class TransactionSignature(Base):
    """A transaction's elements as a device signed them, kept as evidence (non-repudiation). Append-only;
    `reference` is the payment the signature authorised, attached once the payment exists."""

    __tablename__ = "identity_device_signatures"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("identity_devices.id"))
    elements: Mapped[dict[str, Any]] = mapped_column(JSON)
    canonical_digest: Mapped[str] = mapped_column(String(64))  # sha256 hex of the canonical bytes
    signature: Mapped[str] = mapped_column(Text)  # base64 raw r||s, as the device sent it
    verified_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    reference: Mapped[str | None] = mapped_column(String(60), default=None)

    __table_args__ = (
        Index("ix_identity_device_signatures_customer", "customer_id", "verified_at"),
        Index("ix_identity_device_signatures_reference", "reference"),
    )


class UsedNonce(Base):
    """A nonce that was spent (a sign-in proof or a transaction signature): its digest until it expires,
    after which the nonce is refused for its age anyway and the row may be purged."""

    __tablename__ = "identity_used_nonces"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
