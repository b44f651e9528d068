"""Who people are and how they are signed in: customers (with sealed KYC data), their identities, staff,
sessions with their level of assurance, and the login history.

KYC fields are sealed with `atrium.identity.pii` (envelope encryption) and never stored in clear; the
phone is also kept as a blind index (`phone_hash`) so a customer can be found by phone without decrypting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    # The app's display mode the customer chose ("standard" | "elder", atrium.identity.profile.preferences);
    # None until they choose, when the browser's own choice (a cookie) applies.
    ui_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | closed
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    # KYC, sealed (atrium.identity.pii); the phone's blind index finds a customer by phone.
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    phone_enc: Mapped[str | None] = mapped_column(Text, default=None)
    email_enc: Mapped[str | None] = mapped_column(Text, default=None)
    legal_name_enc: Mapped[str | None] = mapped_column(Text, default=None)
    id_number_enc: Mapped[str | None] = mapped_column(Text, default=None)
    address_enc: Mapped[str | None] = mapped_column(Text, default=None)
    # Lockout (atrium.identity.protection.lockout).
    failed_logins: Mapped[int] = mapped_column(default=0)
    lock_state: Mapped[str] = mapped_column(String(16), default="none")  # none | temporary | permanent
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    lock_count: Mapped[int] = mapped_column(default=0)  # temporary locks in the current 24 hours


class CustomerIdentity(Base):
    """One of the roles a customer acts in within one login: themself, a company they operate for, or a
    merchant they run. A session acts as one identity at a time (`AuthSession.identity_id`)."""

    __tablename__ = "customer_identities"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # person | company_operator | merchant
    org_name: Mapped[str] = mapped_column(String(120), default="")
    org_ref: Mapped[str] = mapped_column(String(64), default="")  # company registration no., merchant id
    role: Mapped[str] = mapped_column(String(32), default="")  # e.g. "finance", "owner"
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))  # operator | account_manager | risk_analyst | ...
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class AuthSession(Base):
    """A signed-in session. The bearer/cookie token is stored only as its SHA-256; `sid` is the public id
    (session lists, remote sign-out, the OIDC `sid` claim). `loa` is the level of assurance reached at
    sign-in or by a later step-up; `amr` the methods used (RFC 8176 names plus "passkey")."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[str] = mapped_column(String(40), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # customer | staff
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    loa: Mapped[int] = mapped_column(default=1)
    amr: Mapped[str] = mapped_column(String(64), default="pwd")
    auth_time: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    device_id: Mapped[str | None] = mapped_column(String(40), default=None)
    identity_id: Mapped[str | None] = mapped_column(String(40), default=None)
    client: Mapped[str] = mapped_column(String(24), default="mobile")  # mobile | api | life | staff | oidc
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    last_seen_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginEvent(Base):
    """One sign-in attempt, successful or not: the customer's login history and the security record."""

    __tablename__ = "login_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    staff_id: Mapped[str | None] = mapped_column(String(40), default=None)
    outcome: Mapped[str] = mapped_column(String(16))  # success | failure | locked | challenge
    method: Mapped[str] = mapped_column(String(24))  # pwd | sms | passkey | pwd+sms | ...
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    device_id: Mapped[str | None] = mapped_column(String(40), default=None)
    location: Mapped[str] = mapped_column(String(80), default="")
    occurred_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (Index("ix_login_events_customer", "customer_id", "id"),)


class StepUpGrant(Base):
    """A step-up challenge the customer completed: bound to one action's elements (`digest`), usable once
    (`consumed_at`), within minutes of completion. The primary key is the challenge's id, so a challenge is
    completed at most once."""

    __tablename__ = "step_up_grants"

    challenge_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    sid: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    level: Mapped[int]
    method: Mapped[str] = mapped_column(String(16))
    completed_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    consumed_at: Mapped[datetime | None] = mapped_column(default=None)


class SecurityChange(Base):
    """A change to how a customer signs in or is protected — a passkey or authenticator added or removed,
    the password changed, a device renamed or removed, sessions ended, the identity switched. Append-only:
    the customer's security history and the record a support agent reads when something looks wrong."""

    __tablename__ = "security_changes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(200), default="")  # ids and names, never secrets or PII
    sid: Mapped[str | None] = mapped_column(String(40), default=None)  # the session that made it, if known
    occurred_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())

    __table_args__ = (Index("ix_security_changes_customer", "customer_id", "id"),)
