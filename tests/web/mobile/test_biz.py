"""/biz: the company overview for a session acting as a company operator — the company, its registration
number masked, the operator's role and the enterprise services that role may open (the catalogue's answer
for the viewer), and the way back to the person. Any other identity is sent to /identities."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium.catalog import service as catalog
from atrium.web.mobile.i18n import LOCALE_COOKIE
from atrium.web.mobile.pages.biz import mask_reference
from tests.web.mobile import shell_support as shell
from tests.web.mobile.shell_support import section, tiles

ROLE_ONLY = """
line = "enterprise"

[[services]]
key = "enterprise.payroll"
version = 1
icon = "users"
target = "/biz/payroll"
identity_kinds = ["company_operator"]
permissions = ["finance"]
placements = ["grid"]
name = { zh = "代发工资", en = "Payroll" }
description = { zh = "批量代发员工工资", en = "Pay the staff in one batch" }

[[services]]
key = "enterprise.approvals"
version = 1
icon = "building"
target = "/biz/approvals"
identity_kinds = ["company_operator"]
permissions = ["admin"]
placements = ["grid"]
name = { zh = "付款审批", en = "Payment approvals" }
"""


@pytest.fixture()
def company(db, customer, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "roles.toml").write_text(ROLE_ONLY, encoding="utf-8")
    shell.sync_catalogue(db, [*catalog.definition_dirs(), tmp_path])
    return shell.add_company(db, customer.customer_id, role="finance")


def _listed(db, customer_id: str, identity) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """What /biz must list: the company-only services, then the others this viewer may open (the
    catalogue's answer), both without /biz itself."""
    v = shell.viewer(db, customer_id, identity)
    with db.read_session() as s:
        visible = [x for x in catalog.visible_services(s, v) if x.target != "/biz"]
    own = [x.key for x in visible
           if "company_operator" in x.identity_kinds and "person" not in x.identity_kinds]
    return own, [x.key for x in visible if x.key not in own]


def _own_tiles(html: str) -> list[str]:
    start = html.index('id="own-head"')
    return tiles(html[start: html.index('id="shared-head"', start)])


def test_a_person_is_sent_to_switch_identity(company, signed_in):
    r = signed_in.get("/biz", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/identities?need=company_operator"
    assert "企业概览需要以企业身份查看" in signed_in.get(r.headers["location"]).text


def test_a_customer_without_a_company_is_told_so(db, customer, signed_in):
    shell.sync_catalogue(db)
    r = signed_in.get("/biz")  # follows the redirect
    assert r.status_code == 200 and "您还没有企业身份" in r.text


def test_the_overview_shows_the_company_masked_and_the_role(company, signed_in):
    shell.switch(signed_in, company.id)
    r = signed_in.get("/biz")
    assert r.status_code == 200
    html = r.text
    assert "上海青禾贸易有限公司" in html
    assert "9131**********001X" in html and "91310000MA1FL0001X" not in html
    assert "财务可以办理的业务" in html


def test_the_tab_that_opens_the_overview_is_marked_current(company, signed_in, customer, db):
    shell.switch(signed_in, company.id)
    v = shell.viewer(db, customer.customer_id, company)
    with db.read_session() as s:
        keys = [t.key for t in catalog.tabs_for(s, v) if t.href == "/biz"]
    html = signed_in.get("/biz").text
    assert html.count('aria-current="page"') == len(keys)
    for key in keys:
        assert f'href="/biz" class="tab-{key}" aria-current="page"' in html


def test_the_services_are_the_catalogue_s_for_this_role(company, signed_in, customer, db):
    shell.switch(signed_in, company.id)
    html = signed_in.get("/biz").text
    own, shared = _listed(db, customer.customer_id, company)
    assert "enterprise.payroll" in own and "enterprise.approvals" not in own + shared
    assert _own_tiles(html) == own
    assert tiles(section(html, "can-head")) == own + shared
    assert shared, "services shared with personal banking (security…) are listed too"
    assert "代发工资" in html and "付款审批" not in html
    assert signed_in.get("/go/enterprise.approvals").status_code == 404  # not for a finance operator


def test_another_role_sees_its_own_services(db, customer, signed_in, tmp_path):
    (tmp_path / "roles.toml").write_text(ROLE_ONLY, encoding="utf-8")
    shell.sync_catalogue(db, [*catalog.definition_dirs(), tmp_path])
    admin = shell.add_company(db, customer.customer_id, role="admin", name="Admin Co",
                              ref="91310000MA1FL0003X")
    shell.switch(signed_in, admin.id)
    html = signed_in.get("/biz").text
    own, shared = _listed(db, customer.customer_id, admin)
    assert _own_tiles(html) == own and tiles(section(html, "can-head")) == own + shared
    assert "付款审批" in html and "代发工资" not in html and "管理员可以办理的业务" in html


def test_the_way_back_to_the_person(company, signed_in, customer, db):
    person = shell.person_of(db, customer.customer_id)
    shell.switch(signed_in, company.id)
    html = signed_in.get("/biz").text
    back = section(html, "back-head")
    assert f'action="/identities/{person.id}/switch"' in back and 'href="/identities"' in back
    shell.switch(signed_in, person.id)
    assert signed_in.get("/biz", follow_redirects=False).status_code == 303


def test_a_merchant_identity_is_not_a_company(company, signed_in, customer, db):
    merchant, _ = shell.add_merchant(db, customer.customer_id)
    shell.switch(signed_in, merchant.id)
    r = signed_in.get("/biz", follow_redirects=False)
    assert r.headers["location"] == "/identities?need=company_operator"


def test_english(company, signed_in):
    shell.switch(signed_in, company.id)
    signed_in.cookies.set(LOCALE_COOKIE, "en")
    html = signed_in.get("/biz").text
    assert "Company overview" in html and "What you can do as Finance" in html and "Payroll" in html


@pytest.mark.parametrize(
    ("value", "masked"),
    [("91310000MA1FL0001X", "9131**********001X"), ("12345678", "******78"), ("AB", "AB"), ("", "")],
)
def test_registration_numbers_are_masked(value, masked):
    assert mask_reference(value) == masked
