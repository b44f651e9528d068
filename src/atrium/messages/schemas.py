"""The inbox's input and output models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

CategoryName = Literal["transaction", "security", "service", "marketing"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    category: CategoryName
    title: str
    body: str
    link: str | None = Field(None, description="A path on this site the message points to")
    locale: str
    created_at: datetime
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None


class MessagePage(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None = None
    unread: int = Field(description="Unread messages in the whole inbox")


class UnreadCount(BaseModel):
    unread: int
    by_category: dict[str, int]


class MarkedRead(BaseModel):
    marked: int
    unread: int


ChannelChoice = dict[Literal["sms", "push"], bool]


class PreferencesRead(BaseModel):
    marketing_opt_in: bool
    marketing_changed_at: datetime | None = None
    channels: dict[str, dict[str, bool]] = Field(
        description="Per category, the channels besides the inbox it may use and whether each is on"
    )
    locked: dict[str, list[str]] = Field(description="Per category, channels that cannot be switched off")


class PreferencesUpdate(_In):
    marketing_opt_in: bool | None = None
    channels: dict[CategoryName, ChannelChoice] = Field(default_factory=dict)


class PushSubscriptionKeys(_In):
    p256dh: Annotated[str, Field(min_length=80, max_length=100)]
    auth: Annotated[str, Field(min_length=16, max_length=30)]


class PushSubscriptionCreate(_In):
    """What the browser's `PushSubscription.toJSON()` gives, plus an optional name for the device."""

    endpoint: Annotated[str, Field(min_length=12, max_length=2000)]
    keys: PushSubscriptionKeys
    expirationTime: float | None = None  # noqa: N815 - the Push API's own field name, ignored
    device_label: Annotated[str, Field(max_length=80)] = ""


class PushSubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    device_label: str
    created_at: datetime
    last_sent_at: datetime | None = None


class PushKey(BaseModel):
    enabled: bool
    public_key: str | None = Field(None, description="The VAPID key for PushManager.subscribe()")


class NoticeRead(BaseModel):
    """A service notice in one language, for the home page."""

    id: str
    title: str
    body: str
    link: str | None = None
    starts_at: datetime
    ends_at: datetime
    message_id: str | None = Field(None, description="The customer's inbox copy, once it was delivered")
    read: bool = False


class TemplateVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    template_key: str
    version: int
    channels: list[str]
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    link: str | None = None
    note: str = ""
    created_by: str
    created_at: datetime


class TemplateRead(BaseModel):
    key: str
    category: str
    builtin: bool
    current_version: int
    updated_at: datetime
    placeholders: list[str]
    current: TemplateVersionRead


class TemplateEdit(_In):
    channels: list[Literal["sms", "push"]] = Field(default_factory=list)
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    link: str | None = None
    note: Annotated[str, Field(max_length=200)] = ""


class NoticeCreate(_In):
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    link: str | None = None
    audience: Literal["all", "person", "company_operator", "merchant"] = "all"
    starts_at: datetime
    ends_at: datetime
    to_inbox: bool = True


class DeliveryLog(BaseModel):
    """Counts only: no customer, no phone number, no message text."""

    by_channel: dict[str, dict[str, int]]  # channel → status → count
    errors: dict[str, dict[str, int]]  # channel → error code → count
    messages: dict[str, int]  # category → messages created
    since: datetime | None = None
