"""Passkey tables: the registered credentials and the single-use ceremony challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class PasskeyCredential(Base):
    """A WebAuthn credential (a discoverable one: the authenticator holds the user handle). Only the public
    key is stored; `sign_count` is the authenticator's counter, which must grow (a clone would lag)."""

    __tablename__ = "passkey_credentials"

    id: Mapped[str] = mapped_column(String(1400), primary_key=True)  # credential id, base64url (≤ 1023 bytes)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[str] = mapped_column(String(120), default="")  # comma list: internal,hybrid,usb,...
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    name: Mapped[str] = mapped_column(String(64))
    backed_up: Mapped[bool] = mapped_column(default=False)  # synced passkey (BS flag)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class PasskeyCeremony(Base):
    """One registration or authentication ceremony: its challenge is good for one response, for two
    minutes. A step-up ceremony's challenge is derived from the action it is bound to (`nonce` + bind)."""

    __tablename__ = "passkey_ceremonies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True, default=None)
    kind: Mapped[str] = mapped_column(String(16))  # registration | authentication
    challenge: Mapped[str] = mapped_column(String(100), unique=True)  # base64url
    nonce: Mapped[str] = mapped_column(String(64), default="")  # base64url; set when bound to an action
    rp_id: Mapped[str] = mapped_column(String(253))
    origin: Mapped[str] = mapped_column(String(300), default="")
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
