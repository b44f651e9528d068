"""What the anti-fraud console pages share: the section menu's context, staff names, notes, times typed in
the bank's time zone, feature groups, and how a risk error reads next to the field it is about.

Every state-changing form of the anti-fraud console carries a note in words (why the analyst released a
payment, rejected a rule, removed a list entry): it is stored with the action (case history, rule version,
list audit), so `note_of` refuses a blank or control-character note before anything is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from atrium.kit import clock
from atrium.kit.errors import AtriumError, ValidationFailed
from atrium.web.staff.i18n import StaffTranslator
from atrium.web.staff.pages.catalog import staff_names
from atrium.web.staff.pages.catalog_forms import BANK_TZ, local_text, local_time

NOTE_MAX = 500
# Entity prefixes of feature names, in the order the case page groups them; the rest are the event's own.
FEATURE_GROUPS = ("customer", "card", "account", "device", "payee", "terminal", "ip")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class NoteMissing(ValidationFailed):
    code = "risk-note-missing"
    title = "Say why in a note"


def note_of(text: str, *, required: bool = True) -> str:
    """A note as stored: single-spaced, printable, at most NOTE_MAX characters; blank refused if required."""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\r\t" for ch in text):
        raise NoteMissing("the note may not contain control characters", field="note", words="note.control")
    cleaned = " ".join(text.split())
    if required and not cleaned:
        raise NoteMissing("write a note: it is kept with the action", field="note", words="note.missing")
    if len(cleaned) > NOTE_MAX:
        raise NoteMissing(f"the note is at most {NOTE_MAX} characters", field="note", words="note.long")
    return cleaned


def names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    return staff_names(session, {i for i in ids if i})


def words(t: StaffTranslator, exc: AtriumError) -> str:
    """An error in the reader's language where the console has words for it (the form's own refusals name
    theirs in `words`; the risk domain's by their code), else the error's own detail."""
    for key in (f"risk.error.{exc.extra.get('words')}", f"risk.error.{exc.code}"):
        if t.has(key):
            return t(key)
    return exc.detail


def typed_time(text: str, field: str) -> datetime | None:
    """A datetime-local field in the bank's time zone (blank: None); a malformed one names its field."""
    try:
        return local_time(text[:20])
    except ValueError:
        raise ValidationFailed("not a date and time", field=field, words="window.time") from None


def default_window(days: int = 30) -> tuple[str, str]:
    """The last `days` days, as the form's two datetime-local values."""
    now = clock.now()
    return local_text(now - timedelta(days=days)), local_text(now)


def window_of(since: str, until: str) -> tuple[datetime, datetime]:
    """A [since, until) window from the form; refused if either is missing or they are in the wrong order."""
    start, end = typed_time(since, "since"), typed_time(until, "until")
    if start is None:
        raise ValidationFailed("choose where the window starts", field="since", words="window.since")
    if end is None:
        raise ValidationFailed("choose where the window ends", field="until", words="window.until")
    if end <= start:
        raise ValidationFailed("the window ends before it starts", field="until", words="window.order")
    return start.astimezone(UTC), end.astimezone(UTC)


def expiry_of(days: str) -> datetime | None:
    """A list entry's expiry from a number of days ("" or "0": never)."""
    text = days.strip()
    if not text or text == "0":
        return None
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        raise ValidationFailed("expiry: a whole number of days from 1 to 3650, or blank for none",
                               field="expires_days", words="expiry")
    return clock.now() + timedelta(days=int(text))


FeatureRow = tuple[str, float, bool]


def feature_groups(features: dict[str, float], fired: set[str]) -> list[tuple[str, list[FeatureRow]]]:
    """Features grouped by entity (customer_…, device_…, …; the event's own last), each as (name, value,
    read by a rule that fired)."""
    groups: dict[str, list[FeatureRow]] = {g: [] for g in (*FEATURE_GROUPS, "event")}
    for name in sorted(features):
        prefix = name.split("_", 1)[0]
        groups[prefix if prefix in FEATURE_GROUPS else "event"].append((name, features[name], name in fired))
    return [(g, rows) for g, rows in groups.items() if rows]


def names_in(expressions: Iterable[str]) -> set[str]:
    """The identifiers an expression reads (strings inside quotes are skipped)."""
    found: set[str] = set()
    for text in expressions:
        found |= set(_NAME.findall(re.sub(r"\"[^\"]*\"|'[^']*'", "", text)))
    return found


__all__ = [
    "BANK_TZ", "NOTE_MAX", "NoteMissing", "default_window", "expiry_of", "feature_groups",
    "local_text", "names", "names_in", "note_of", "typed_time", "window_of", "words",
]
