"""Helpers for the app shell's page tests: the catalogue synced from its definition files, organisation
identities, switching identity through the page, and reading service tiles out of a page."""

from __future__ import annotations

import re
from pathlib import Path

from atrium.catalog import service as catalog
from atrium.catalog.schemas import Viewer
from atrium.db.session import Database
from atrium.identity import identities
from atrium.identity.identities import IdentityRead
from atrium.payments.merchants import service as merchants
from tests.web.mobile.factories import page_token

_TILE = re.compile(r'data-service="([^"]+)"')


def sync_catalogue(db: Database, dirs: list[Path] | None = None) -> None:
    """The catalogue as the business lines' definition files declare it (plus `dirs`, if given)."""
    with db.unit_of_work() as s:
        catalog.sync_definitions(s, dirs)


def add_company(db: Database, customer_id: str, *, role: str = "finance", name: str = "上海青禾贸易有限公司",
                ref: str = "91310000MA1FL0001X") -> IdentityRead:
    with db.unit_of_work() as s:
        identities.ensure_person(s, customer_id)
        return identities.add_identity(s, customer_id=customer_id, kind="company_operator", org_name=name,
                                       org_ref=ref, role=role)


def add_merchant(db: Database, customer_id: str, *, name: str = "街角咖啡") -> tuple[IdentityRead, str]:
    """A new merchant (CNY) and a merchant identity for the customer; returns the identity and the id."""
    with db.unit_of_work() as s:
        identities.ensure_person(s, customer_id)
        m = merchants.create_merchant(s, name=name, category="dining", city="上海")
        identity = identities.add_identity(s, customer_id=customer_id, kind="merchant", org_name=m.name,
                                           org_ref=m.id, role="owner")
        return identity, m.id


def person_of(db: Database, customer_id: str) -> IdentityRead:
    with db.unit_of_work() as s:
        return identities.ensure_person(s, customer_id)


def switch(client, identity_id: str):  # type: ignore[no-untyped-def]
    """Switch the signed-in session to `identity_id` through the identities page; returns the answer."""
    token = page_token(client, "/identities")
    return client.post(f"/identities/{identity_id}/switch", data={"csrf_token": token},
                       follow_redirects=False)


def viewer(db: Database, customer_id: str, identity: IdentityRead | None = None,
           ui_mode: str = "standard") -> Viewer:
    with db.read_session() as s:
        return catalog.viewer_for(s, customer_id=customer_id, identity=identity, channel="app",
                                  ui_mode=ui_mode)


def tiles(html: str, within: str | None = None) -> list[str]:
    """The service keys of the tiles and rows in `html` (or in the element with id `within`), in order."""
    if within is not None:
        start = html.index(f'id="{within}"')
        html = html[start:]
    return _TILE.findall(html)


def section(html: str, heading_id: str) -> str:
    """The text of the <section> labelled by `heading_id`."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start: html.index("</section>", start)]
