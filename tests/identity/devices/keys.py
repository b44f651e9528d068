"""A software device for the tests: a P-256 key made with `cryptography`, signing exactly as device.js does
(raw r‖s, base64) over the canonical text built the way device.js builds it (key by key, not through
`signing.canonical`, so the tests compare two implementations)."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def js_canonical(elements: dict[str, str]) -> str:
    """device.js: '{' + sorted keys.map(JSON.stringify(k) + ':' + JSON.stringify(v)).join(',') + '}'."""
    parts = [json.dumps(k, ensure_ascii=False) + ":" + json.dumps(elements[k], ensure_ascii=False)
             for k in sorted(elements)]
    return "{" + ",".join(parts) + "}"


class SoftDevice:
    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        spki = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(spki).decode()

    def sign_bytes(self, message: bytes) -> str:
        der = self.private_key.sign(message, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()

    def sign(self, elements: dict[str, str]) -> str:
        return self.sign_bytes(js_canonical(elements).encode("utf-8"))


def iso(at: datetime) -> str:
    """JavaScript's Date.prototype.toISOString: milliseconds and a Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def elements(at: datetime, **extra: str) -> dict[str, str]:
    base = {
        "payee": "6222020200112233445",
        "amount_minor": "600000",
        "currency": "CNY",
        "time": iso(at),
        "nonce": secrets.token_urlsafe(16),
    }
    return base | extra
