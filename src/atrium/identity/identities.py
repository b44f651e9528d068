"""The identities a customer acts in within one login, and which one a session currently acts as.

Every customer has a "person" identity (created with the customer); staff and the demo seeder add
"company_operator" identities (the customer operates a company's accounts, in a role) and "merchant"
identities (the customer runs a merchant). A session acts as one identity at a time
(`AuthSession.identity_id`; none recorded means the person). Invariant: a session can only be switched
to an identity of its own customer — any other id is "not found", so ids cannot be probed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from atrium.identity import audit, sessions
from atrium.identity.models import Customer, CustomerIdentity
from atrium.identity.principal import Principal
from atrium.kit.errors import Conflict, NotFound, ValidationFailed
from atrium.kit.ids import new_id

Kind = Literal["person", "company_operator", "merchant"]
ORGANISATION_KINDS = ("company_operator", "merchant")
_ORDER = {"person": 0, "company_operator": 1, "merchant": 2}


class IdentityNotFound(NotFound):
    code = "identity-not-found"
    title = "No such identity"


class IdentityExists(Conflict):
    code = "identity-exists"
    title = "The customer already has that identity"


class IdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Kind
    org_name: str
    org_ref: str
    role: str
    created_at: datetime
    current: bool = False


def _rows(session: Session, customer_id: str) -> list[CustomerIdentity]:
    rows = session.scalars(select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id))
    return sorted(rows, key=lambda r: (_ORDER.get(r.kind, 9), r.created_at, r.id))


def _read(row: CustomerIdentity, current_id: str | None) -> IdentityRead:
    return IdentityRead.model_validate(row).model_copy(update={"current": row.id == current_id})


def list_identities(
    session: Session, customer_id: str, *, current_id: str | None = None
) -> list[IdentityRead]:
    """The customer's identities, the person first, then organisations in the order they were added.
    `current_id` marks the one a session acts as."""
    return [_read(r, current_id) for r in _rows(session, customer_id)]


def ensure_person(session: Session, customer_id: str) -> IdentityRead:
    """The customer's person identity, created if missing (customers created before identities existed)."""
    row = session.scalar(
        select(CustomerIdentity).where(
            CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == "person"
        )
    )
    if row is None:
        row = CustomerIdentity(id=new_id("idn"), customer_id=customer_id, kind="person")
        session.add(row)
        session.flush()
    return _read(row, None)


def add_identity(
    session: Session, *, customer_id: str, kind: str, org_name: str, org_ref: str, role: str = ""
) -> IdentityRead:
    """Let a customer act for an organisation: a company they operate (`role`, e.g. "finance") or a merchant
    they run (`org_ref`: the company registration number or merchant id). One identity per organisation."""
    if kind not in ORGANISATION_KINDS:
        raise ValidationFailed("kind is company_operator or merchant", field="kind")
    org_name, org_ref, role = org_name.strip(), org_ref.strip(), role.strip()
    if not 1 <= len(org_name) <= 120 or not 1 <= len(org_ref) <= 64 or len(role) > 32:
        raise ValidationFailed("an organisation needs a name (≤120) and a reference (≤64)", field="org")
    if session.get(Customer, customer_id) is None:
        raise NotFound("no such customer")
    twin = session.scalar(
        select(CustomerIdentity.id).where(
            CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == kind,
            CustomerIdentity.org_ref == org_ref,
        )
    )
    if twin is not None:
        raise IdentityExists("the customer already acts for that organisation", identity_id=twin)
    row = CustomerIdentity(
        id=new_id("idn"), customer_id=customer_id, kind=kind, org_name=org_name, org_ref=org_ref, role=role
    )
    session.add(row)
    session.flush()
    return _read(row, None)


def _own(session: Session, customer_id: str, identity_id: str) -> CustomerIdentity:
    row = session.get(CustomerIdentity, identity_id)
    if row is None or row.customer_id != customer_id:
        raise IdentityNotFound("no such identity")
    return row


def _session_identity_id(session: Session, principal: Principal) -> str | None:
    if principal.sid:
        row = sessions.by_sid(session, principal.sid)
        if row is not None:
            return row.identity_id
    return principal.identity_id


def current_identity(session: Session, principal: Principal) -> IdentityRead | None:
    """The identity the principal's session acts as: the one it switched to, else the person. None only for
    a customer without any identity (or a staff principal)."""
    if principal.kind != "customer":
        return None
    chosen = _session_identity_id(session, principal)
    rows = _rows(session, principal.id)
    row = next((r for r in rows if r.id == chosen), None)
    if row is None:
        row = next((r for r in rows if r.kind == "person"), None)
    return None if row is None else _read(row, row.id)


def switch(session: Session, principal: Principal, identity_id: str) -> IdentityRead:
    """Make the principal's session act as one of its customer's identities (another customer's → 404)."""
    if principal.kind != "customer" or not principal.sid:
        raise IdentityNotFound("no such identity")
    row = _own(session, principal.id, identity_id)
    sessions.set_identity(session, principal.sid, row.id)
    audit.record(session, principal.id, "identity.switched", f"{row.kind}: {row.org_name or '-'}",
                 sid=principal.sid)
    return _read(row, row.id)
