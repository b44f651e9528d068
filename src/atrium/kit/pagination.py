"""Opaque cursors for keyset pagination: the cursor encodes the last row's sort key."""

from __future__ import annotations

import base64
import json
from typing import Any

from atrium.kit.errors import ValidationFailed


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        pad = "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(cursor + pad))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("malformed cursor") from exc
    if not isinstance(value, list):
        raise ValidationFailed("malformed cursor")
    return value
