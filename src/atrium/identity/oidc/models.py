"""Tables of the OpenID Connect provider, and of the bank's own first-party relying parties (Atrium Life).

Provider side: signing keys (private halves sealed), registered clients, remembered consents,
authorization codes, grants and their refresh tokens. A *grant* is one sign-in of one customer into one
client: every refresh token of a rotation chain belongs to it, and every access token names it (`gid`),
so revoking the grant (refresh-token reuse, RFC 7009 revocation) stops all of them at once. Every grant
is tied to the customer's browser session `sid`; ending that session ends the grant too.

Relying-party side: a sign-in in flight (state, nonce, PKCE verifier) and a signed-in Life session, both
server side; the browser only holds opaque random cookies whose hashes are the keys here.
Secrets (codes, tokens, cookies) are stored as SHA-256 hashes, or sealed when they must be read back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atrium.db.base import Base
from atrium.kit import clock


class OidcSigningKey(Base):
    """An ES256 key. The newest unretired key signs; retired keys stay in the JWKS for a while so tokens
    they signed still verify."""

    __tablename__ = "oidc_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16), default="ES256")
    public_jwk: Mapped[str] = mapped_column(Text)  # JSON
    private_sealed: Mapped[str] = mapped_column(Text)  # PEM sealed with pii.seal(context="oidc.key")
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class OidcClient(Base):
    __tablename__ = "oidc_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    redirect_uris: Mapped[str] = mapped_column(Text)  # JSON list, compared exactly
    post_logout_redirect_uris: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    kind: Mapped[str] = mapped_column(String(16))  # public | confidential
    secret_hash: Mapped[str | None] = mapped_column(String(200), default=None)  # "sha256:…" or argon2
    allowed_scopes: Mapped[str] = mapped_column(String(400))  # space separated
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class OidcConsent(Base):
    """What a customer allowed a third-party client to see (asked once per new scope)."""

    __tablename__ = "oidc_consents"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(400))
    granted_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())


class OidcGrant(Base):
    __tablename__ = "oidc_grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # grt_…
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(400))
    acr: Mapped[str] = mapped_column(String(40))
    amr: Mapped[str] = mapped_column(String(100))  # comma list
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), default=None)


class OidcAuthorizationCode(Base):
    __tablename__ = "oidc_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    sid: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(400))
    nonce: Mapped[str | None] = mapped_column(String(200), default=None)
    code_challenge: Mapped[str] = mapped_column(String(128))
    acr: Mapped[str] = mapped_column(String(40))
    amr: Mapped[str] = mapped_column(String(100))
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    grant_id: Mapped[str | None] = mapped_column(String(40), default=None)  # set when exchanged


class OidcRefreshToken(Base):
    __tablename__ = "oidc_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oidc_grants.id"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)  # exchanged for a successor

    __table_args__ = (Index("ix_oidc_refresh_tokens_grant", "grant_id"),)


class RpLoginState(Base):
    """A relying party's sign-in in flight: what the callback must find again (RFC 6749 state, OIDC
    nonce, RFC 7636 verifier). Keyed by the hash of the state; the browser cookie carries the state too."""

    __tablename__ = "oidc_rp_login_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(100))
    verifier_sealed: Mapped[str] = mapped_column(Text)
    next_path: Mapped[str] = mapped_column(String(500), default="/")
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    expires_at: Mapped[datetime]


class RpSession(Base):
    """A signed-in session of a first-party relying party (Atrium Life), held server side."""

    __tablename__ = "oidc_rp_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie value
    client_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    access_sealed: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime]
    refresh_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    id_token_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=lambda: clock.now())
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
