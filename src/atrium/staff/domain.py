"""Pure rules of staff access: masking customer names for staff screens and cleaning the stated reason.
No SQLAlchemy, no FastAPI."""

from __future__ import annotations

import unicodedata

from atrium.staff.errors import InvalidReason

DEFAULT_REASON = "customer service view"
REASON_MAX = 200
# Latin words keep their initial and a fixed tail, so the mask does not give away the length of a name.
_LATIN_TAIL = "***"


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def mask_name(name: str) -> str:
    """A customer's name as staff see it by default: '李四' -> '李*', '王小明' -> '王**',
    'Emma Wang' -> 'E*** W***'. Enough to address the customer; not enough to identify them."""
    words = name.split()
    if not words:
        return ""
    if any(_is_wide(ch) for ch in name):
        compact = "".join(words)
        return compact[0] + "*" * max(1, len(compact) - 1)
    return " ".join(w[0] + _LATIN_TAIL for w in words)


def mask_username(username: str) -> str:
    """'mei.wang' -> 'me***': staff recognise a username a customer tells them, nothing more."""
    if not username:
        return ""
    return username[: 2 if len(username) > 3 else 1] + _LATIN_TAIL


def clean_reason(reason: str | None) -> str:
    """The reason an access is recorded with: trimmed, single-spaced, printable; empty means the default."""
    if reason is None:
        return DEFAULT_REASON
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in reason):
        raise InvalidReason("the reason may not contain control characters")
    text = " ".join(reason.split())
    if len(text) > REASON_MAX:
        raise InvalidReason(f"the reason is at most {REASON_MAX} characters")
    return text or DEFAULT_REASON


# What a staff member did with customer data; the audit log names these.
AUDITED_ACTIONS: tuple[str, ...] = (
    "customer.view",  # opened one customer's profile, accounts and transfers
    "customer.search",  # listed customers (masked) matching a search
    "customer.unlock",  # lifted a customer's sign-in lock (reason required)
)
