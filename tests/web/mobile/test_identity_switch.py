"""Multiple identities, one app: /identities lists the person's identities and switches the session between
them; the tabs, the home and the services then follow the identity (each the catalogue's answer for the
new viewer), and another customer's identity is never reachable."""

from __future__ import annotations

import re

import pytest

from atrium.catalog import service as catalog
from atrium.identity import audit, identities, sessions
from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.web.mobile import shell_support as shell
from tests.web.mobile.factories import page_token, seed_customer
from tests.web.mobile.shell_support import tiles

_TAB = re.compile(r'<a href="([^"]+)" class="tab-([^"]+)"')


@pytest.fixture()
def company(db, customer):  # type: ignore[no-untyped-def]
    shell.sync_catalogue(db)
    return shell.add_company(db, customer.customer_id)


def _tabs(html: str) -> list[tuple[str, str]]:
    nav = html[html.index('<nav class="tabbar"'):]
    return [(key, href) for href, key in _TAB.findall(nav)]


def _expected_tabs(db, customer_id: str, identity=None) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    v = shell.viewer(db, customer_id, identity)
    with db.read_session() as s:
        return [(t.key, t.href) for t in catalog.tabs_for(s, v)]


def test_the_identities_page_lists_them_with_the_current_one_marked(company, signed_in, customer):
    r = signed_in.get("/identities")
    assert r.status_code == 200
    html = r.text
    assert "个人" in html and "上海青禾贸易有限公司" in html and "企业经办人 · 财务" in html
    assert html.count('aria-current="true"') == 1
    assert html.index('aria-current="true"') < html.index("上海青禾贸易有限公司")  # the person is current
    assert html.count("/switch") == 1 and f'action="/identities/{company.id}/switch"' in html


def test_switching_changes_the_tabs_home_and_services(company, signed_in, customer, db):
    person_tabs = _tabs(signed_in.get("/").text)
    assert person_tabs == _expected_tabs(db, customer.customer_id)
    person_grid = tiles(signed_in.get("/services").text, within="service-results")

    r = shell.switch(signed_in, company.id)
    assert r.status_code == 303 and r.headers["location"] == "/?switched=1"
    home = signed_in.get(r.headers["location"]).text
    assert "已切换，当前身份：上海青禾贸易有限公司" in home
    company_tabs = _tabs(home)
    assert company_tabs == _expected_tabs(db, customer.customer_id, company)
    assert company_tabs != person_tabs

    v = shell.viewer(db, customer.customer_id, company)
    with db.read_session() as s:
        grid = [x.key for x in catalog.visible_services(s, v) if "grid" in x.placements]
        quick = [x.key for x in catalog.home_quick(s, v, limit=8)]
    services = signed_in.get("/services").text
    assert tiles(services, within="service-results") == grid
    assert grid != person_grid
    assert any(k.startswith("enterprise.") for k in grid)  # the enterprise services…
    with db.read_session() as s:
        person_only = {x.key for x in catalog.visible_services(s, shell.viewer(db, customer.customer_id))
                       if x.identity_kinds == ["person"]}
    assert person_only and not person_only & set(grid)  # …and not the personal ones that do not apply
    assert tiles(home, within="quick-head")[:len(quick)] == quick


def test_the_switch_is_per_session_and_audited(company, signed_in, customer, db):
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer.customer_id, amr=["pwd", "sms"])
    shell.switch(signed_in, company.id)
    with db.read_session() as s:
        changes = audit.recent(s, customer.customer_id)
        second = identities.current_identity(s, sessions.authenticate(s, token))
    assert [c.action for c in changes][:1] == ["identity.switched"] and changes[0].sid
    assert second is not None and second.kind == "person"  # another sign-in still acts as the person


def test_switching_back_restores_the_person(company, signed_in, customer, db):
    person = shell.person_of(db, customer.customer_id)
    shell.switch(signed_in, company.id)
    shell.switch(signed_in, person.id)
    assert _tabs(signed_in.get("/").text) == _expected_tabs(db, customer.customer_id)
    html = signed_in.get("/identities").text
    assert html.count("/switch") == 1 and f'action="/identities/{company.id}/switch"' in html


def test_another_customer_s_identity_is_not_found(company, signed_in, customer, db):
    other = seed_customer(db, username="lei", display_name="李雷", phone=None)
    theirs = shell.add_company(db, other.customer_id, name="别人的公司", ref="91310000MA1FL0009X")
    r = shell.switch(signed_in, theirs.id)
    assert r.status_code == 404 and "没有找到身份" in r.text
    r = shell.switch(signed_in, "idn_does_not_exist")
    assert r.status_code == 404
    html = signed_in.get("/identities").text
    assert "别人的公司" not in html and theirs.id not in html
    assert _tabs(signed_in.get("/").text) == _expected_tabs(db, customer.customer_id)


def test_the_switch_needs_csrf_and_a_session(company, signed_in, client):
    assert signed_in.post(f"/identities/{company.id}/switch").status_code == 403
    token = page_token(signed_in, "/identities")
    signed_in.cookies.clear()
    r = signed_in.post(f"/identities/{company.id}/switch", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403  # the CSRF token was bound to the session that is gone
    assert signed_in.get("/identities", follow_redirects=False).status_code == 303


def test_the_page_speaks_english(company, signed_in):
    signed_in.cookies.set(LOCALE_COOKIE, "en")
    html = signed_in.get("/identities").text
    assert "Switch identity" in html and "Company operator · Finance" in html and "Personal" in html


def test_the_home_chip_and_settings_reach_the_switcher(company, signed_in):
    home = signed_in.get("/").text
    assert 'class="identity-chip identity-person" href="/identities"' in home
    shell.switch(signed_in, company.id)
    home = signed_in.get("/").text
    assert 'class="identity-chip identity-company_operator" href="/identities"' in home
    assert "上海青禾贸易有限公司 · 财务" in home


def test_a_need_note_explains_why_the_person_landed_here(company, signed_in, customer, db):
    html = signed_in.get("/identities?need=company_operator").text
    assert "请先切换到企业身份" in html
    html = signed_in.get("/identities?need=merchant").text
    assert "您还没有商户身份" in html
    html = signed_in.get("/identities?need=<script>").text
    assert "<script>" not in html.split("<main", 1)[1]


def test_identities_with_a_stale_identity_fall_back_to_the_person(company, signed_in, customer, db):
    shell.switch(signed_in, company.id)
    with db.unit_of_work() as s:
        from atrium.identity.models import CustomerIdentity

        s.delete(s.get(CustomerIdentity, company.id))
    html = signed_in.get("/").text
    assert 'class="identity-chip identity-person"' in html
    with db.read_session() as s:
        assert all(i.kind == "person" for i in identities.list_identities(s, customer.customer_id))
