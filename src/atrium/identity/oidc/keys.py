"""The provider's signing keys (ES256, P-256), through joserfc.

A key is created on first use. `rotate` retires the current key and makes a new one; a retired key keeps
being published in the JWKS for `RETIRED_PUBLISHED` (longer than any token it signed lives), so relying
parties holding a token signed just before the rotation still verify it. Private keys are sealed with the
PII envelope key (`pii.seal(context="oidc.key")`) and opened only to sign.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from atrium.identity import pii
from atrium.identity.oidc.models import OidcSigningKey
from atrium.kit import clock
from atrium.kit.ids import new_id

ALG = "ES256"
SEAL_CONTEXT = "oidc.key"
RETIRED_PUBLISHED = timedelta(days=2)


def _new_key(session: Session) -> OidcSigningKey:
    kid = new_id("k")
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALG, "use": "sig"}, private=True)
    row = OidcSigningKey(
        kid=kid,
        alg=ALG,
        public_jwk=json.dumps(key.as_dict(private=False), sort_keys=True),
        private_sealed=pii.seal(key.as_pem(private=True).decode(), context=SEAL_CONTEXT),
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def _current(session: Session) -> OidcSigningKey | None:
    return session.scalar(
        select(OidcSigningKey).where(OidcSigningKey.retired_at.is_(None)).order_by(OidcSigningKey.kid.desc())
    )


def current_key(session: Session) -> OidcSigningKey:
    """The key that signs now (created on first use, so the caller needs a write session then)."""
    return _current(session) or _new_key(session)


def ensure_key(session: Session) -> str:
    return current_key(session).kid


def rotate(session: Session) -> str:
    """Retire the current key (still published for a while) and start signing with a new one."""
    old = _current(session)
    if old is not None:
        old.retired_at = clock.now()
    return _new_key(session).kid


def _published(session: Session) -> list[OidcSigningKey]:
    since = clock.now() - RETIRED_PUBLISHED
    return list(
        session.scalars(
            select(OidcSigningKey)
            .where(or_(OidcSigningKey.retired_at.is_(None), OidcSigningKey.retired_at > since))
            .order_by(OidcSigningKey.kid.desc())
        )
    )


def jwks(session: Session) -> dict[str, Any]:
    """The public JWK Set (RFC 7517): the current key and recently retired ones."""
    return {"keys": [json.loads(row.public_jwk) for row in _published(session)]}


def key_set(session: Session) -> KeySet:
    return KeySet.import_key_set(jwks(session))  # type: ignore[arg-type]


def sign(session: Session, claims: dict[str, Any], *, typ: str = "JWT") -> str:
    row = current_key(session)
    private = ECKey.import_key(
        pii.unseal(row.private_sealed, context=SEAL_CONTEXT),
        parameters={"kid": row.kid, "alg": ALG, "use": "sig"},
    )
    return jwt.encode({"alg": ALG, "kid": row.kid, "typ": typ}, claims, private, algorithms=[ALG])


def verify(session: Session, token: str) -> jwt.Token | None:
    """The token's header and claims if one of our published keys signed it (claims are NOT validated
    here: expiry, audience and issuer are the caller's to check). None for anything else."""
    if not token or len(token) > 8192:
        return None
    keys = _published(session)
    if not keys:
        return None
    try:
        return jwt.decode(
            token, KeySet.import_key_set({"keys": [json.loads(k.public_jwk) for k in keys]}), algorithms=[ALG]
        )
    except (JoseError, ValueError):
        return None
