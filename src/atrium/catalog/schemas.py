"""The catalogue's I/O shapes. `Viewer`, `ServiceRead` and `TabRead` are the contract the app shell builds on
(names and shapes agreed; fields may be added, never renamed or removed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IdentityKind = Literal["person", "company_operator", "merchant"]
Channel = Literal["app", "life", "partner"]
Placement = Literal["grid", "quick", "tab"]
AttributeValue = str | int | float | bool | list[str]

ProposalKind = Literal["create", "update", "switch", "schedule"]
ProposalStatus = Literal["pending", "approved", "rejected", "withdrawn", "superseded"]


class Viewer(BaseModel):
    """Who is looking. The audience rules are evaluated over `attributes`."""

    customer_id: str
    identity_kind: IdentityKind = "person"
    identity_role: str = ""  # the role in the organisation ("finance", "owner", …) or ""
    channel: Channel = "app"
    attributes: dict[str, AttributeValue] = {}


class ServiceRead(BaseModel):
    key: str  # stable id, e.g. "retail.transfer"
    # business line: retail | cards | loans | wealth | life | enterprise | rural | security | service
    line: str
    name: dict[str, str]  # {"zh": "转账", "en": "Transfer"}
    description: dict[str, str]  # one short line per locale
    keywords: dict[str, list[str]]  # extra search words per locale
    icon: str  # an icon name from the mobile icons.svg
    target: str  # where it opens: a path on this site ("/transfer") or an https URL
    identity_kinds: list[IdentityKind]
    permissions: list[str]  # organisation roles allowed (empty = any role of an allowed kind)
    channels: list[Channel]
    placements: list[str]  # "grid" (all services), "quick" (home quick row), "tab"
    rank: int  # default order within a line / the quick row (lower first)
    version: int

    def label(self, locale: str) -> str:
        """The name in `locale`, falling back to Chinese, then to the key."""
        return self.name.get(locale) or self.name.get("zh") or self.key

    def blurb(self, locale: str) -> str:
        return self.description.get(locale) or self.description.get("zh") or ""


class TabRead(BaseModel):
    key: str
    href: str
    icon: str
    label: dict[str, str]

    def text(self, locale: str) -> str:
        return self.label.get(locale) or self.label.get("zh") or self.key


# --- the managed catalogue (staff console, sync) ------------------------------------------------------


class ServiceDefinition(BaseModel):
    """Everything a business line declares about one service (a TOML table, a proposal's payload). The
    domain validates it (`domain.validate_definition`); this model only fixes the shape."""

    model_config = ConfigDict(extra="forbid")

    key: str
    line: str
    name: dict[str, str]
    description: dict[str, str] = {}
    keywords: dict[str, list[str]] = {}
    icon: str
    target: str
    identity_kinds: list[str] = ["person"]
    permissions: list[str] = []
    channels: list[str] = ["app"]
    placements: list[str] = ["grid"]
    rank: int = 100
    audience: dict[str, Any] | None = None  # the audience rule; None = everyone


class Window(BaseModel):
    """When a service is offered: [starts_at, ends_at); either end open."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None


class ManagedService(BaseModel):
    """A service as staff see it: its definition, switch, window, version and where it came from."""

    key: str
    definition: ServiceDefinition
    enabled: bool
    window: Window
    version: int
    config_version: int  # the file version last applied by the configuration sync (0: never from a file)
    source: str  # "console" or the definition file it came from
    updated_at: datetime
    updated_by: str


class HistoryRead(BaseModel):
    """One applied change to a service (append-only): who proposed it, who approved it, when."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    service_key: str
    version: int
    change: str  # create | update | switch | schedule
    definition: dict[str, Any]
    enabled: bool
    starts_at: datetime | None
    ends_at: datetime | None
    proposal_id: str | None
    proposed_by: str
    approved_by: str
    source: str
    note: str
    applied_at: datetime


class ProposalCreate(BaseModel):
    """A maker's proposal. `base_version` is the service version it was written against (0 for a new
    service); it applies only if the service is still at that version when approved."""

    model_config = ConfigDict(extra="forbid")

    kind: ProposalKind
    service_key: str = Field(min_length=1, max_length=80)
    base_version: int = Field(default=0, ge=0)
    definition: ServiceDefinition | None = None  # create / update
    enabled: bool | None = None  # switch
    window: Window | None = None  # schedule
    note: str = Field(default="", max_length=500)


class ProposalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: ProposalKind
    service_key: str
    base_version: int
    payload: dict[str, Any]
    status: ProposalStatus
    note: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str


class TabLayoutRead(BaseModel):
    key: str
    identity_kind: IdentityKind
    audience: dict[str, Any] | None
    priority: int
    tabs: list[str]


class SyncReport(BaseModel):
    """What one configuration sync did: keys created, keys updated, files read."""

    created: list[str] = []
    updated: list[str] = []
    unchanged: int = 0
    files: list[str] = []


class PreviewRead(BaseModel):
    """Who a definition would select among a sample of customers (switch and window aside: who, not when).
    A customer counts once if any of their identities would see the service."""

    sampled: int
    matched: int
    by_kind: dict[str, int]  # identities that would see it, per identity kind


class ViewerCheck(BaseModel):
    """Would this one identity of a customer see the service, and if not, why."""

    identity_id: str
    identity_kind: str
    org_name: str
    role: str
    shown: bool
    reason: str | None  # domain.hidden_because's code
