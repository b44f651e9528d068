from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DeviceRead(BaseModel):
    """A bound device as its owner sees it. `cooling_off` is whether payments from it still run under the
    lower limits of a newly bound device (until `cooling_off_until`)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    user_agent: str
    created_at: datetime
    trusted_at: datetime | None
    cooling_off_until: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    trusted: bool = False
    cooling_off: bool = False
    current: bool = False  # the device the caller's session was opened on


class DeviceRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        name = " ".join(value.split())
        if not name or any(not ch.isprintable() for ch in name):
            raise ValueError("a device name is printable text")
        return name


class DeviceNonceRead(BaseModel):
    """A sign-in nonce for the device to sign (single use, short-lived)."""

    nonce: str
    expires_in: int


class TransactionSignatureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    customer_id: str
    device_id: str
    elements: dict[str, Any]
    canonical_digest: str
    verified_at: datetime
    reference: str | None
