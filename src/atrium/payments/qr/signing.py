"""QR payload format, Ed25519 signatures and sealing of private seeds. No database, no settings.

Format: `ATRQR1.<b64url(claims JSON)>.<b64url(signature)>`, base64url without padding. The signature is
over the ASCII bytes `ATRQR1.<b64url(claims JSON)>`, so the version and the claims are both covered and a
verifier never re-serialises JSON (which could differ byte for byte).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Annotated

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atrium.kit.money import MAX_AMOUNT_MINOR

PREFIX = "ATRQR1"
MAX_PAYLOAD = 1024  # a real payload is ~300 characters; anything far longer is not ours
SIGNATURE_BYTES = 64
REFERENCE_MAX = 64
_HKDF_SALT = b"atrium/payments/qr"
_HKDF_INFO = b"merchant qr signing seed wrap v1"
_NONCE_BYTES = 12
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z: any later time is not a datetime


class MalformedPayload(ValueError):
    """Not an Atrium QR payload (wrong shape, encoding, claims)."""


class SealBroken(ValueError):
    """A sealed seed did not open: the secret key changed, or the row was tampered with."""


class Claims(BaseModel):
    """What a QR code says. Short names keep the QR code small."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    v: Annotated[int, Field(ge=1, le=1)]  # claims version
    m: Annotated[str, Field(min_length=1, max_length=40)]  # merchant id
    k: Annotated[str, Field(min_length=1, max_length=40)]  # signing key id
    a: Annotated[int | None, Field(ge=1, le=MAX_AMOUNT_MINOR)]  # fixed amount in minor units, or open
    c: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # currency
    r: Annotated[str, Field(min_length=1, max_length=REFERENCE_MAX)]  # the merchant's order reference
    t: Annotated[int, Field(ge=0, le=_LAST_SECOND)]  # issued at, Unix seconds
    x: Annotated[int, Field(ge=0, le=_LAST_SECOND)]  # expires at, Unix seconds
    n: Annotated[str, Field(min_length=8, max_length=32)]  # random nonce: two codes never look alike


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64d(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedPayload("not base64url") from exc


def new_nonce() -> str:
    return _b64e(os.urandom(9))


# --- keys -------------------------------------------------------------------------------------------


def new_key_pair() -> tuple[bytes, bytes]:
    """(32-byte private seed, 32-byte raw public key)."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    return seed, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def wrapping_key(secret_key: str) -> bytes:
    """The AES-256 key that seals seeds, derived from the process secret (never stored)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )


def _aad(key_id: str, merchant_id: str) -> bytes:
    return f"{key_id}|{merchant_id}".encode()


def seal_seed(seed: bytes, *, wrap_key: bytes, key_id: str, merchant_id: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(wrap_key).encrypt(nonce, seed, _aad(key_id, merchant_id))


def open_seed(sealed: bytes, *, wrap_key: bytes, key_id: str, merchant_id: str) -> bytes:
    try:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        return AESGCM(wrap_key).decrypt(nonce, ciphertext, _aad(key_id, merchant_id))
    except (InvalidTag, ValueError) as exc:
        raise SealBroken("the sealed seed does not open with this secret key") from exc


def encode_public(public: bytes) -> str:
    return _b64e(public)


# --- payloads ---------------------------------------------------------------------------------------


def sign(claims: Claims, seed: bytes) -> str:
    body = _b64e(json.dumps(claims.model_dump(), sort_keys=True, separators=(",", ":")).encode())
    signing_input = f"{PREFIX}.{body}"
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64e(signature)}"


def split(payload: object) -> tuple[Claims, bytes, bytes]:
    """(claims, signing input, signature) of a well-formed payload. The claims are NOT yet trusted."""
    if not isinstance(payload, str) or not 0 < len(payload) <= MAX_PAYLOAD or not payload.isascii():
        raise MalformedPayload("not an Atrium QR code")
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        raise MalformedPayload("not an Atrium QR code")
    signature = _b64d(parts[2])
    if len(signature) != SIGNATURE_BYTES:
        raise MalformedPayload("the signature has the wrong length")
    try:
        claims = Claims.model_validate(json.loads(_b64d(parts[1])))
    except (ValueError, ValidationError, RecursionError) as exc:
        raise MalformedPayload("the QR claims are not readable") from exc
    return claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def verify(public_b64: str, signing_input: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(_b64d(public_b64)).verify(signature, signing_input)
    except (InvalidSignature, MalformedPayload, ValueError):
        return False
    return True
