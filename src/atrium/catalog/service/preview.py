"""Who would see a service: a count over a sample of customers, and a check for one customer.

Both evaluate the definition exactly as `visible_services` does (same attributes from `viewer_for`, same
`domain.hidden_because`), except that the preview ignores the switch and the window: it answers "who",
not "when". Reading a customer for the one-customer check is a staff read of customer data; the console
records it (`atrium.staff.service.record_access`) — this layer cannot, being below staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from atrium.catalog import domain
from atrium.catalog.schemas import PreviewRead, ServiceDefinition, ViewerCheck
from atrium.catalog.service.viewing import viewer_for
from atrium.identity import identities
from atrium.identity import service as identity_service
from atrium.kit import clock
from atrium.kit.errors import NotFound

SAMPLE_MAX = 200


def _entry(definition: dict[str, Any]) -> domain.Entry:
    domain.validate_definition(definition)
    d = ServiceDefinition.model_validate(definition)
    return domain.Entry(key=d.key, enabled=True, starts_at=None, ends_at=None, channels=frozenset(d.channels),
                        identity_kinds=frozenset(d.identity_kinds), permissions=frozenset(d.permissions),
                        audience=d.audience)


def _checks(session: Session, entry: domain.Entry, customer_id: str, now: datetime,
            channel: str) -> list[ViewerCheck]:
    out = []
    for identity in identities.list_identities(session, customer_id):
        viewer = viewer_for(session, customer_id=customer_id, identity=identity, channel=channel, now=now)
        reason = domain.hidden_because(entry, channel=channel, identity_kind=viewer.identity_kind,
                                       identity_role=viewer.identity_role, attributes=viewer.attributes,
                                       now=now)
        out.append(ViewerCheck(
            identity_id=identity.id, identity_kind=identity.kind, org_name=identity.org_name,
            role=identity.role, shown=reason is None, reason=reason,
        ))
    return out


def audience_preview(session: Session, definition: dict[str, Any], *, sample: int = SAMPLE_MAX,
                     channel: str = "app", now: datetime | None = None) -> PreviewRead:
    """Among the newest `sample` customers (at most 200), how many would see the service."""
    entry = _entry(definition)
    moment = now or clock.now()
    customers = identity_service.search_customers(session, limit=max(1, min(sample, SAMPLE_MAX)))
    matched, by_kind = 0, {kind: 0 for kind in domain.IDENTITY_KINDS}
    for customer in customers:
        shown = [c for c in _checks(session, entry, customer.id, moment, channel) if c.shown]
        matched += bool(shown)
        for c in shown:
            by_kind[c.identity_kind] = by_kind.get(c.identity_kind, 0) + 1
    return PreviewRead(sampled=len(customers), matched=matched, by_kind=by_kind)


def check_viewer(session: Session, definition: dict[str, Any], customer_id: str, *, channel: str = "app",
                 now: datetime | None = None) -> list[ViewerCheck]:
    """For each identity of one customer: would it see the service, and if not, why."""
    entry = _entry(definition)
    if identity_service.get_customer(session, customer_id) is None:
        raise NotFound("no such customer", customer_id=customer_id)
    return _checks(session, entry, customer_id, now or clock.now(), channel)
