"""Accounts' reactions to other domains' events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.accounts import service
from atrium.events.consumers import subscribe
from atrium.identity.events import CustomerRegistered


@subscribe("accounts.open_first_account", [CustomerRegistered.type])
def open_first_account(session: Session, event: CustomerRegistered) -> None:
    """A customer registered through the API gets a CNY current account, unless the channel that
    registered them (the app's registration pages) opened one already."""
    if service.list_for_customer(session, event.customer_id):
        return
    service.open_account(session, customer_id=event.customer_id, product="current", currency="CNY")
