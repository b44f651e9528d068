"""Personal data at rest: envelope encryption, blind indexes for lookups, and masks for display.

Each value is sealed with its own random 256-bit data key (AES-256-GCM); the data key is wrapped with the
key-encryption key `settings.security.pii_key` (AES key wrap, RFC 3394) and stored beside the ciphertext.
Rotating the key-encryption key therefore re-wraps 40-byte data keys, not the data. The `context`
(e.g. "customer.phone") is authenticated data: a value sealed for one field cannot be moved into another.

Token format: ``v1.<key id>.<wrapped data key>.<nonce>.<ciphertext>`` (base64url, no padding). The key id
is the first 8 hex digits of the key-encryption key's SHA-256, so a token says which key wrapped it.

Lookups (find a customer by phone) use a blind index: HMAC-SHA256 of the normalised value under a key
derived from the key-encryption key, so the database never holds the phone in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from atrium.config import get_settings
from atrium.kit.errors import AtriumError

VERSION = "v1"


class SealBroken(AtriumError):
    status = 500
    code = "sealed-value-unreadable"
    title = "A protected value could not be opened"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4)
def _keys(pii_key: str) -> tuple[str, bytes, bytes]:
    kek = base64.b64decode(pii_key)
    if len(kek) != 32:
        raise ValueError("security.pii_key must be the base64 of 32 bytes")
    key_id = hashlib.sha256(kek).hexdigest()[:8]
    index_key = hmac.new(kek, b"atrium blind index v1", hashlib.sha256).digest()
    return key_id, kek, index_key


def _current() -> tuple[str, bytes, bytes]:
    return _keys(get_settings().security.pii_key)


def seal(plaintext: str, *, context: str) -> str:
    key_id, kek, _ = _current()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext.encode(), context.encode())
    wrapped = aes_key_wrap(kek, data_key)
    return ".".join((VERSION, key_id, _b64(wrapped), _b64(nonce), _b64(ciphertext)))


def unseal(token: str, *, context: str) -> str:
    key_id, kek, _ = _current()
    try:
        version, token_key_id, wrapped, nonce, ciphertext = token.split(".")
    except ValueError:
        raise SealBroken("the sealed value is malformed") from None
    if version != VERSION or token_key_id != key_id:
        raise SealBroken(f"the value was sealed with another key ({token_key_id})")
    try:
        data_key = aes_key_unwrap(kek, _unb64(wrapped))
        return AESGCM(data_key).decrypt(_unb64(nonce), _unb64(ciphertext), context.encode()).decode()
    except Exception as exc:  # InvalidTag, InvalidUnwrap: tampered, or another field's value
        raise SealBroken("the sealed value does not open under this key and context") from exc


def seal_optional(plaintext: str | None, *, context: str) -> str | None:
    return None if plaintext is None else seal(plaintext, context=context)


def unseal_optional(token: str | None, *, context: str) -> str | None:
    return None if token is None else unseal(token, context=context)


def blind_index(value: str, *, context: str) -> str:
    _, _, index_key = _current()
    return hmac.new(index_key, f"{context}|{value}".encode(), hashlib.sha256).hexdigest()


# --- masks: what staff screens and customer summaries show ------------------------------------------------


def mask_phone(phone: str) -> str:
    """ "+8613812345678" or "13812345678" → "138****5678"."""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_id_number(number: str) -> str:
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"


def mask_name(name: str) -> str:
    """Chinese names keep the family name ("王*"); Latin names keep initials ("J. S***")."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        parts = name.split()
        if len(parts) == 1:
            return parts[0][:1] + "***"
        return " ".join(p[:1] + "." for p in parts[:-1]) + " " + parts[-1][:1] + "***"
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    address = address.strip()
    return address[:6] + "…" if len(address) > 6 else "…"
