"""The cryptography of device binding, without a database: P-256 keys, the canonical form of a transaction's
elements, signature checks and the stateless sign-in nonce.

Canonical form (static/js/device.js builds the very same bytes): the elements — a flat object whose keys are
lower-case identifiers and whose values are all strings — serialised as JSON with the keys sorted, no
whitespace (`,` and `:` as separators), non-ASCII characters written as themselves and the result encoded
as UTF-8. That is Python's `json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` and
JavaScript's `JSON.stringify` over the sorted keys: both escape only `"`, `\\` and control characters, the
same way. Amounts travel as decimal strings of minor units ("600000"), so no number formatting can differ.

Signatures are ECDSA P-256 with SHA-256 as WebCrypto makes them: the raw 64 bytes r‖s (IEEE P1363), base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

from atrium.identity.devices.errors import InvalidPublicKey, TamperedSignature

REQUIRED_ELEMENTS = ("payee", "amount_minor", "currency", "time", "nonce")
ELEMENT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ELEMENTS = 20
MAX_VALUE_LENGTH = 300
MAX_PUBLIC_KEY_LENGTH = 200
_SIGNATURE_BYTES = 64
_NONCE_VERSION = "dn1"


def _b64decode(value: str) -> bytes:
    return base64.b64decode(value.encode("ascii"), validate=True)


def load_public_key(public_key_b64: str) -> ec.EllipticCurvePublicKey:
    """The P-256 key in a base64 SPKI, or InvalidPublicKey (any other curve, algorithm or encoding)."""
    if not public_key_b64 or len(public_key_b64) > MAX_PUBLIC_KEY_LENGTH:
        raise InvalidPublicKey("the device key is missing or too long")
    try:
        key = load_der_public_key(_b64decode(public_key_b64))
    except (ValueError, UnicodeEncodeError, binascii.Error) as exc:
        raise InvalidPublicKey("the device key is not a base64 SubjectPublicKeyInfo") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidPublicKey("the device key must be an ECDSA P-256 key")
    return key


def key_digest(public_key_b64: str) -> str:
    return hashlib.sha256(_b64decode(public_key_b64)).hexdigest()


def verify(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    """True when `signature_b64` (raw r‖s, base64) is the key's ECDSA-SHA256 signature over `message`."""
    key = load_public_key(public_key_b64)
    try:
        raw = _b64decode(signature_b64)
    except (ValueError, UnicodeEncodeError, binascii.Error):
        return False
    if len(raw) != _SIGNATURE_BYTES:
        return False
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def check_elements(elements: Mapping[str, object]) -> dict[str, str]:
    """The elements as a plain dict of strings, or TamperedSignature when their shape is not signable."""
    if len(elements) > MAX_ELEMENTS:
        raise TamperedSignature(f"a signature covers at most {MAX_ELEMENTS} elements")
    missing = [name for name in REQUIRED_ELEMENTS if not elements.get(name)]
    if missing:
        raise TamperedSignature(f"the signed elements lack {', '.join(missing)}")
    checked: dict[str, str] = {}
    for name, value in elements.items():
        if not isinstance(name, str) or not ELEMENT_KEY.match(name):
            raise TamperedSignature("element names are lower-case identifiers")
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
            raise TamperedSignature(f"the element {name} must be a string of at most {MAX_VALUE_LENGTH}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 form, so nothing to sign
            raise TamperedSignature(f"the element {name} is not valid text") from exc
        checked[name] = value
    return checked


def canonical(elements: Mapping[str, str]) -> bytes:
    """The bytes a device signs for these elements (see the module docstring)."""
    text = json.dumps(dict(elements), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def parse_time(value: str) -> datetime:
    """The `time` element: ISO-8601 in UTC (`2024-05-01T08:30:00.000Z` as JavaScript's toISOString)."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TamperedSignature("the signed time is not an ISO-8601 timestamp") from exc
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise TamperedSignature("the signed time must be in UTC")
    return at


# --- the sign-in nonce ---------------------------------------------------------------------------------
# "dn1.<expiry, unix seconds>.<random>.<HMAC>": the server keeps nothing until the nonce is spent, and
# cannot be handed a nonce it did not make or one past its expiry.


def _mac(secret: str, body: str) -> str:
    mac = hmac.new(secret.encode(), f"atrium-device-nonce|{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def issue_nonce(secret: str, *, expires_at: datetime) -> str:
    body = f"{_NONCE_VERSION}.{int(expires_at.timestamp())}.{secrets.token_urlsafe(18)}"
    return f"{body}.{_mac(secret, body)}"


def nonce_expiry(secret: str, nonce: str, *, now: datetime) -> datetime | None:
    """When the nonce expires, or None when it is forged, malformed or already expired."""
    parts = nonce.split(".") if len(nonce) <= 200 else []
    if len(parts) != 4 or parts[0] != _NONCE_VERSION or not parts[1].isdigit():
        return None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, body), parts[3]):
        return None
    expires_at = datetime.fromtimestamp(int(parts[1]), UTC)
    return expires_at if expires_at > now else None


def digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def digest_bytes(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()
