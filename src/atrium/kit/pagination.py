"""Opaque cursors for keyset pagination: the cursor encodes the last row's sort key.

A cursor comes back from the client, so decoding treats it as untrusted input: anything that is not a
non-empty list of scalars (of the expected length, when the caller says) is a 422, never a 500 later on.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from atrium.kit.errors import ValidationFailed

# A sort key is a handful of scalars; a longer "cursor" is garbage or an attempt to make us parse a lot.
MAX_CURSOR_LENGTH = 2048
_SCALARS = (str, int, float, bool, type(None))


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, size: int | None = None) -> list[Any]:
    """The key list inside `cursor`; `size` (optional) is the number of key parts the caller sorts by."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise ValidationFailed("malformed cursor")
    try:
        pad = "=" * (-len(cursor) % 4)
        # validate=True: characters outside the URL-safe alphabet are an error, not silently skipped.
        raw = base64.b64decode(cursor + pad, altchars=b"-_", validate=True)
        value = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValidationFailed("malformed cursor") from exc
    if not isinstance(value, list) or not value or not all(isinstance(v, _SCALARS) for v in value):
        raise ValidationFailed("malformed cursor")
    if size is not None and len(value) != size:
        raise ValidationFailed("malformed cursor")
    return value
