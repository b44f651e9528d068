"""Tables of the second factors and of password history (identity's own: only identity imports them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class OtpCode(Base):
    """A one-time code sent by SMS. Only its HMAC is stored; it is single use, lives 5 minutes, and dies
    after 5 wrong tries. `binding` ties it to one action's elements (a digest), or "" for a sign-in."""

    __tablename__ = "otp_codes"
    __table_args__ = (Index("ix_otp_codes_phone_created", "phone_hash", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(24))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True, default=None)
    binding: Mapped[str] = mapped_column(String(128), default="")
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(40), default=None)  # the SMS (notify) it went in
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    dead_at: Mapped[datetime | None] = mapped_column(default=None)  # too many tries, or a newer code


class TotpCredential(Base):
    """A customer's authenticator-app secret (RFC 6238), sealed. `pending` until a first code confirms it;
    `last_step` is the newest time step accepted, so a code cannot be replayed."""

    __tablename__ = "totp_credentials"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | active
    last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)


class PasswordHistory(Base):
    """Hashes of a customer's previous passwords (argon2id), newest kept, for the "not one of the last 5"
    rule. The current password's hash stays on the customer."""

    __tablename__ = "password_history"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
