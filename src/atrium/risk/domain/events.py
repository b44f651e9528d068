"""What the decision path sees of one event: when, which channel, how much, and the entities involved."""

from __future__ import annotations

from dataclasses import dataclass

ENTITY_KINDS: tuple[str, ...] = ("customer", "card", "account", "device", "payee", "terminal", "ip")
CHANNELS: tuple[str, ...] = ("transfer", "qr", "card", "login", "device", "payee", "api")


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """One event to decide. Entity keys are opaque strings (keyed hashes where they would be personal data);
    `at` is epoch seconds (UTC) so the hot path does float arithmetic, not datetime arithmetic."""

    event_id: str
    at: float
    channel: str
    amount_minor: int = 0
    currency: str = "CNY"
    customer: str | None = None
    card: str | None = None
    account: str | None = None
    device: str | None = None
    payee: str | None = None
    terminal: str | None = None
    ip: str | None = None
    lat: float | None = None
    lon: float | None = None

    def entity(self, kind: str) -> str | None:
        return getattr(self, kind)  # type: ignore[no-any-return]
