"""Pure rules of staff access: masking customer data for staff screens, the reasons staff give, and the
vocabulary of the access audit (actions, screens, customer-page sections). No SQLAlchemy, no FastAPI."""

from __future__ import annotations

import ipaddress
import unicodedata

from atrium.staff.errors import InvalidReason, RevealReasonRequired

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


def mask_ip(ip: str) -> str:
    """A sign-in address as staff see it: the network, not the host. IPv4 keeps its first two octets
    ('203.0.113.45' -> '203.0.*.*'), IPv6 its first two groups ('2001:db8::1' -> '2001:db8:*'); anything
    that is not an address shows as '***' (it might be anything), an empty one as ''."""
    text = ip.strip()
    if not text:
        return ""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "***"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        a, b, _, _ = str(address).split(".")
        return f"{a}.{b}.*.*"
    groups = address.exploded.split(":")
    return f"{int(groups[0], 16):x}:{int(groups[1], 16):x}:*"


def _check_text(reason: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in reason):
        raise InvalidReason("the reason may not contain control characters")
    text = " ".join(reason.split())
    if len(text) > REASON_MAX:
        raise InvalidReason(f"the reason is at most {REASON_MAX} characters")
    return text


def clean_reason(reason: str | None) -> str:
    """The reason an access is recorded with: trimmed, single-spaced, printable; empty means the default."""
    if reason is None:
        return DEFAULT_REASON
    return _check_text(reason) or DEFAULT_REASON


# --- revealing a masked field ------------------------------------------------------------------------------

# Why a staff member may see one field in clear. The category is recorded beside the free text, so the
# privacy review can count reveals per purpose without parsing words.
REVEAL_CATEGORIES: tuple[str, ...] = (
    "identity_check",  # verifying who is on the phone or at the counter
    "customer_request",  # the customer asked for something that needs the detail (a letter, a call-back)
    "complaint",  # handling a complaint
    "fraud_investigation",  # a fraud or anti-money-laundering case
    "legal_request",  # a court order, a regulator's request
)
# The free text must say something: at least this much "width" (a Chinese character counts twice, a
# Latin letter once: 6 characters of Chinese say about as much as 12 letters of English) and three
# different characters, so "............" or "aaaaaaaaaaaa" is refused.
REVEAL_TEXT_MIN = 12
REVEAL_TEXT_DISTINCT = 3


def text_weight(text: str) -> int:
    return sum(2 if _is_wide(ch) else 1 for ch in text if not ch.isspace())


def reveal_reason(category: str | None, text: str | None) -> tuple[str, str]:
    """The (category, text) a reveal is recorded with. Both are required: a known category, and a text
    that says why in words (see REVEAL_TEXT_MIN); control characters or more than REASON_MAX characters
    are an invalid reason."""
    if category not in REVEAL_CATEGORIES:
        raise RevealReasonRequired("choose why the field is revealed", field="category")
    cleaned = _check_text(text or "")
    compact = cleaned.replace(" ", "")
    if text_weight(cleaned) < REVEAL_TEXT_MIN or len(set(compact)) < REVEAL_TEXT_DISTINCT:
        raise RevealReasonRequired("say in words why the field is revealed", field="reason")
    return category, cleaned


# --- the audit's vocabulary --------------------------------------------------------------------------------

# What a staff member did with customer data; the audit log names these.
AUDITED_ACTIONS: tuple[str, ...] = (
    "customer.view",  # opened a customer's 360 view, one of its sections, or their sign-in lock
    "customer.search",  # listed customers (masked) matching a search
    "customer.unlock",  # lifted a customer's sign-in lock (reason required)
    "customer.unmask",  # saw one masked field in clear (category and reason required; field in detail)
    "account.view",  # opened one deposit account and a page of its entries
    "transfer.view",  # opened one transfer and its status history
    "audit.export",  # exported access records as CSV (the filters and the row count in detail)
)

# Which screen showed it (the `screen` of an audit record): the privacy review groups reads by screen.
SCREENS: tuple[str, ...] = (
    "customer.search",  # the search results
    "customer.360",  # the whole 360 page: profile, masked KYC and one section
    "customer.section",  # one section of the 360 page, loaded on its own
    "customer.lock",  # the sign-in lock page
    "customer.kyc",  # one KYC field revealed
    "account",  # an account and its entries
    "transfer",  # a transfer and its history
    "audit.export",  # the CSV export of the access audit
    "catalog.audience",  # the service catalogue's per-customer audience check
    "catalog.preview",  # the service catalogue's audience preview over a sample of customers (counts only)
    "risk.queue",  # the anti-fraud case queue (masked customers; how many shown in detail)
    "risk.case",  # one anti-fraud case: the transaction, its evidence and the customer's recent history
)

# The sections of the customer 360 page, each loaded (and audited) on its own.
SECTIONS: tuple[str, ...] = ("overview", "identities", "security", "limits")
