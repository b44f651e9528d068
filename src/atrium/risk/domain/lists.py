"""Block, allow and watch lists, indexed for O(1) lookups per subject kind.

Invariants:
- An entry matches an event when its subject's key on the event equals the entry's value exactly and it
  has not expired: `expires_at is None or now < expires_at` (an entry at its expiry instant is over).
- `merchant` entries match `event.terminal`; `pair` entries match f"{event.customer}|{event.payee}" (a
  payer–payee allow pair) and only when both are present.
- `match` returns hits ordered block, allow, watch, and within a kind by `SUBJECT_KINDS` order — the
  order in which `decide.combine` states them as reasons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from atrium.kit.errors import ValidationFailed
from atrium.risk.domain.events import RiskEvent

LIST_KINDS: Final = ("block", "allow", "watch")
SUBJECT_KINDS: Final = ("card", "account", "device", "ip", "payee", "merchant", "customer", "pair")
# Subject kind → the event attribute holding its key (pair is composed, see `subject_value`).
EVENT_ATTRIBUTE: Final = {
    "card": "card", "account": "account", "device": "device", "ip": "ip", "payee": "payee",
    "merchant": "terminal", "customer": "customer",
}
PAIR_SEPARATOR: Final = "|"
MAX_VALUE_LENGTH: Final = 256
_KIND_RANK: Final = {kind: rank for rank, kind in enumerate(LIST_KINDS)}


class InvalidListEntry(ValidationFailed):
    code = "invalid-list-entry"
    title = "The list entry is not valid"


def pair_value(customer: str, payee: str) -> str:
    """The value of a `pair` entry for a payer (customer key) and a payee key."""
    return f"{customer}{PAIR_SEPARATOR}{payee}"


def subject_value(event: RiskEvent, subject_kind: str) -> str | None:
    """The event's key for `subject_kind`, or None when the event has no such subject."""
    if subject_kind == "pair":
        if event.customer is None or event.payee is None:
            return None
        return pair_value(event.customer, event.payee)
    return getattr(event, EVENT_ATTRIBUTE[subject_kind])  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class ListEntry:
    list_kind: str  # block | allow | watch
    subject_kind: str  # card | account | device | ip | payee | merchant | customer | pair
    value: str  # the subject's opaque key (a keyed hash where it would be personal data)
    expires_at: float | None = None  # epoch seconds; None = until removed
    entry_id: str = ""

    def __post_init__(self) -> None:
        if self.list_kind not in LIST_KINDS:
            raise InvalidListEntry(f"list kind {self.list_kind!r} must be one of {', '.join(LIST_KINDS)}")
        if self.subject_kind not in SUBJECT_KINDS:
            raise InvalidListEntry(
                f"subject kind {self.subject_kind!r} must be one of {', '.join(SUBJECT_KINDS)}"
            )
        if not isinstance(self.value, str) or not self.value or len(self.value) > MAX_VALUE_LENGTH:
            raise InvalidListEntry(f"a list entry's value must be 1-{MAX_VALUE_LENGTH} characters")
        if self.subject_kind == "pair":
            payer, sep, payee = self.value.partition(PAIR_SEPARATOR)
            if not (payer and sep and payee):
                raise InvalidListEntry("a pair entry's value is '<customer>|<payee>'")
        if self.expires_at is not None and (
            isinstance(self.expires_at, bool) or not isinstance(self.expires_at, int | float)
            or math.isnan(self.expires_at)
        ):
            raise InvalidListEntry("expires_at must be epoch seconds or None")

    def active(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class ListHit:
    """An active entry that matched an event. `value` is the opaque subject key (not for reason params)."""

    list_kind: str
    subject_kind: str
    entry_id: str
    value: str
    expires_at: float | None = None

    @classmethod
    def of(cls, entry: ListEntry) -> ListHit:
        return cls(entry.list_kind, entry.subject_kind, entry.entry_id, entry.value, entry.expires_at)

    def to_dict(self) -> dict[str, object]:
        return {"list_kind": self.list_kind, "subject_kind": self.subject_kind, "entry_id": self.entry_id,
                "value": self.value, "expires_at": self.expires_at}


class ListIndex:
    """Entries keyed by (subject kind, value). Immutable once built: the service builds a new index when
    the lists change (`risk_revision`)."""

    __slots__ = ("_by_key", "entries")

    def __init__(self, entries: Iterable[ListEntry] = ()) -> None:
        self.entries: tuple[ListEntry, ...] = tuple(entries)
        by_key: dict[tuple[str, str], list[ListEntry]] = {}
        for entry in self.entries:
            by_key.setdefault((entry.subject_kind, entry.value), []).append(entry)
        self._by_key: dict[tuple[str, str], tuple[ListEntry, ...]] = {
            key: tuple(sorted(group, key=lambda e: _KIND_RANK[e.list_kind])) for key, group in by_key.items()
        }

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, event: RiskEvent, now: float) -> list[ListHit]:
        """The active entries matching `event` at `now`: one dict lookup per subject kind present."""
        if not self._by_key:
            return []
        hits: list[ListHit] = []
        get = self._by_key.get
        for subject_kind in SUBJECT_KINDS:
            value = subject_value(event, subject_kind)
            if value is None:
                continue
            group = get((subject_kind, value))
            if group:
                hits.extend(ListHit.of(entry) for entry in group if entry.active(now))
        if len(hits) > 1:
            hits.sort(key=lambda hit: _KIND_RANK[hit.list_kind])  # stable: subject order kept within a kind
        return hits

    def active_entries(self, now: float) -> list[ListEntry]:
        return [entry for entry in self.entries if entry.active(now)]
