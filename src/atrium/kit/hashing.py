"""Stable request fingerprints for idempotency: the same body gives the same hash on every platform."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
