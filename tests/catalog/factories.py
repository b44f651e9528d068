"""Customers with the attributes audience rules read (age through a sealed ID number, tenure, identities),
service definitions, and staff — for the catalogue's tests, through the domain services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from atrium.catalog import service as catalog
from atrium.catalog.schemas import ProposalCreate, ServiceDefinition, Viewer
from atrium.identity import identities, kyc, pii
from atrium.identity import service as identity
from atrium.kit import clock
from atrium.kit.ids import new_id

PASSWORD = "correct horse battery"


def id_number_born(born: date, region: str = "110105", serial: str = "123") -> str:
    """A valid 18-character resident ID number for someone born on `born`."""
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + kyc.id_check_character(first17)


def born_years_ago(years: int, *, today: date | None = None) -> date:
    """A birth date making someone exactly `years` old today in Shanghai (30 days past a birthday)."""
    today = today or clock.now().astimezone(kyc.BEIJING).date()
    anchor = today - timedelta(days=30)
    try:
        return anchor.replace(year=anchor.year - years)
    except ValueError:  # 29 February
        return (anchor - timedelta(days=1)).replace(year=anchor.year - years)


@dataclass(frozen=True)
class Person:
    customer_id: str
    username: str
    identities: dict[str, identities.IdentityRead]  # by kind


def make_customer(
    s: Session, *, age: int | None = None, locale: str = "zh", tenure_days: int = 0,
    company_role: str | None = None, merchant: bool = False, username: str | None = None,
) -> Person:
    """A customer (with its person identity), optionally an ID number making it `age`, signed up
    `tenure_days` ago, acting for a company in `company_role` and/or running a merchant. Flushes."""
    name = username or new_id("u").lower()
    row = identity.create_customer(s, username=name, password=PASSWORD, display_name=name, locale=locale)
    if age is not None:
        row.id_number_enc = pii.seal(id_number_born(born_years_ago(age)), context=kyc.CONTEXTS["id_number"])
    if tenure_days:
        row.created_at = clock.now() - timedelta(days=tenure_days)
    s.flush()
    kinds = {"person": identities.ensure_person(s, row.id)}
    if company_role is not None:
        kinds["company_operator"] = identities.add_identity(
            s, customer_id=row.id, kind="company_operator", org_name="星河科技", org_ref=f"91{name}"[:64],
            role=company_role,
        )
    if merchant:
        kinds["merchant"] = identities.add_identity(
            s, customer_id=row.id, kind="merchant", org_name="老街面馆", org_ref=f"m-{name}"[:64],
        )
    return Person(customer_id=row.id, username=name, identities=kinds)


def viewer(s: Session, person: Person, kind: str = "person", *, ui_mode: str = "standard",
           channel: str = "app") -> Viewer:
    return catalog.viewer_for(s, customer_id=person.customer_id, identity=person.identities[kind],
                              channel=channel, ui_mode=ui_mode)


def definition(key: str = "wealth.pension", **fields: Any) -> ServiceDefinition:
    data: dict[str, Any] = {
        "key": key, "line": key.split(".", 1)[0], "name": {"zh": "养老理财", "en": "Pension savings"},
        "description": {"zh": "为退休做准备", "en": "Save for retirement"},
        "keywords": {"zh": ["养老"], "en": ["retirement"]}, "icon": "wallet", "target": "/limits",
        "identity_kinds": ["person"], "channels": ["app"], "placements": ["grid", "quick"], "rank": 50,
    }
    data.update(fields)
    return ServiceDefinition.model_validate(data)


def staff(s: Session, username: str, role: str = "operator") -> str:
    return identity.create_staff(s, username=username, password=PASSWORD, display_name=username, role=role).id


def publish(s: Session, maker: str, checker: str, d: ServiceDefinition, *,
            window: tuple[datetime | None, datetime | None] | None = None) -> None:
    """Propose a new service as `maker` and approve it as `checker`."""
    body: dict[str, Any] = {"kind": "create", "service_key": d.key, "definition": d}
    if window is not None:
        body["window"] = {"starts_at": window[0], "ends_at": window[1]}
    proposal = catalog.propose(s, maker, ProposalCreate.model_validate(body))
    catalog.approve(s, checker, proposal.id)
