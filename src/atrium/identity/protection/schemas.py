"""What protection shows: a customer's lock status, their signed-in sessions and their login history."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LockStatusRead(BaseModel):
    customer_id: str
    state: Literal["none", "temporary", "permanent"]  # effective now: a run-out temporary lock is "none"
    locked_until: datetime | None = None
    locked_at: datetime | None = None
    failed_logins: int
    recent_locks: int  # temporary locks in the permanent-lock window (24 h by default)


class PlaceRead(BaseModel):
    """A coarse location: `key` "local" (loopback, private networks), "unknown", or a table entry's key."""

    key: str
    zh: str
    en: str

    def name(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


class DeviceRead(BaseModel):
    """A user agent summarised: browser / app and operating system, None when not recognised."""

    browser: str | None = None
    os: str | None = None
    name: str  # "Chrome on Android", "WeChat on iOS", "API client"


class SessionInfo(BaseModel):
    sid: str
    client: str
    device: DeviceRead
    ip: str
    place: PlaceRead
    loa: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool  # the session this request is made with


class SessionList(BaseModel):
    items: list[SessionInfo]


class RevokeAllRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keep_current: bool = Field(default=True, description="keep the session making this request signed in")


class RevokeAllResult(BaseModel):
    revoked: int
    current_revoked: bool


class LoginEventRead(BaseModel):
    id: str
    occurred_at: datetime
    outcome: Literal["success", "failure", "locked", "challenge"] | str
    method: str
    ip: str
    device: DeviceRead
    place: PlaceRead


class LoginHistoryPage(BaseModel):
    items: list[LoginEventRead]
    next_cursor: str | None = None
