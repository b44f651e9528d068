from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PasskeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    transports: list[str]
    aaguid: str
    backed_up: bool
    created_at: datetime
    last_used_at: datetime | None


class PasskeyCreate(BaseModel):
    """The browser's `PublicKeyCredential` (JSON form) from navigator.credentials.create(), and a name."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


class PasskeyLoginOptionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PasskeyLogin(BaseModel):
    """The browser's assertion from navigator.credentials.get()."""

    model_config = ConfigDict(extra="forbid")
    credential: dict[str, Any]
    client: Literal["mobile", "api"] = "mobile"
