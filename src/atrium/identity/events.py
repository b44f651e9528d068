"""Integration events the identity domain emits. Payloads carry ids only, never personal data (events reach
brokers and logs). They register with the catalogue (`atrium.events.catalogue.EVENT_TYPES`) when this module
is imported; a consumer imports the event class from here, which registers it before it subscribes."""

from __future__ import annotations

from typing import ClassVar

from atrium.events.catalogue import Event, event_type


@event_type
class CustomerRegistered(Event):
    """A new customer completed self-registration (phone verified, KYC on file). `channel`: where they
    registered ("mobile", "api"). Accounts opens their first CNY current account unless the channel did."""

    type: ClassVar[str] = "CustomerRegistered"
    customer_id: str
    channel: str

    def aggregate_id(self) -> str | None:
        return self.customer_id
