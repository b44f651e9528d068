"""Raw entity values → the opaque keys the decision path and the log use, and masks for people.

IPs, devices and payees would be personal data (a device id or an account number identifies a person), so
their key is a keyed hash: HMAC-SHA256 under the blind-index key derived from `security.pii_key`, with a
per-kind context, truncated to 128 bits. The same raw value always gives the same key (velocity features
and list lookups need that), nobody without the key can test a guess, and the database and logs never hold
the clear value. Card, account, customer and terminal references are the bank's own ids (a card id, never
a PAN) and stay as they are. Masks ("10.1.*.*", "…1234") are what screens show.
"""

from __future__ import annotations

import ipaddress

from atrium.identity import pii
from atrium.risk.domain.events import RiskEvent
from atrium.risk.domain.lists import pair_value
from atrium.risk.schemas import RiskEventIn

HASHED_KINDS = ("device", "ip", "payee")
_KEY_HEX = 32


def normalise(kind: str, raw: str) -> str:
    """One spelling per value: an IP in its canonical form, other values trimmed (payees case-folded)."""
    value = raw.strip()
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value.lower()
    if kind == "payee":
        return value.replace(" ", "").casefold()
    return value


def entity_key(kind: str, raw: str) -> str:
    """The opaque key of a raw value of entity `kind` (ip, device, payee hashed; others as given)."""
    value = normalise(kind, raw)
    if kind in HASHED_KINDS:
        return pii.blind_index(value, context=f"risk.{kind}")[:_KEY_HEX]
    return value


def mask(kind: str, raw: str) -> str:
    """What a person may see of a hashed value."""
    value = normalise(kind, raw)
    if kind == "ip":
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return "*"
        if address.version == 4:
            a, b, *_ = value.split(".")
            return f"{a}.{b}.*.*"
        return ":".join(address.exploded.split(":")[:2]) + ":*"
    tail = "".join(ch for ch in value if ch.isalnum())[-4:]
    return f"…{tail}" if len(tail) == 4 and len(value) > 6 else "…"


def event_of(decision_id: str, event: RiskEventIn, at: float) -> tuple[RiskEvent, dict[str, str]]:
    """The engine's event (keys, not raw values) and the masks of the hashed entities."""
    displays: dict[str, str] = {}

    def hashed(kind: str, raw: str | None) -> str | None:
        if raw is None or not raw.strip():
            return None
        displays[kind] = mask(kind, raw)
        return entity_key(kind, raw)

    return RiskEvent(
        event_id=decision_id, at=at, channel=event.channel, amount_minor=event.amount_minor,
        currency=event.currency, customer=event.customer_id, card=event.card_ref, account=event.account_id,
        device=hashed("device", event.device_id), payee=hashed("payee", event.payee_ref),
        terminal=event.terminal_id, ip=hashed("ip", event.ip), lat=event.lat, lon=event.lon,
    ), displays


def list_value(subject_kind: str, raw: str, counterpart: str | None = None) -> tuple[str, str]:
    """(key, display) of a list entry's raw value; a pair is the payer's customer id and a payee."""
    if subject_kind == "pair":
        if not counterpart:
            raise ValueError("a pair needs the payee as its counterpart")
        payer = raw.strip()
        return pair_value(payer, entity_key("payee", counterpart)), f"{payer} → {mask('payee', counterpart)}"
    kind = "terminal" if subject_kind == "merchant" else subject_kind
    key = entity_key(kind, raw)
    return key, (mask(kind, raw) if kind in HASHED_KINDS else key)
