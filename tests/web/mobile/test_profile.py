"""/profile: masked KYC details with a per-field "show" toggle for the customer, and the identity switch."""

from __future__ import annotations

import pytest

from atrium.identity import identities, kyc, sessions
from atrium.web.deps import SESSION_COOKIE
from tests.identity.test_registration import ID_NUMBER
from tests.web.mobile.factories import page_token, seed_customer


@pytest.fixture()
def mei(db):  # type: ignore[no-untyped-def]
    """A customer with KYC on file and a company she operates."""
    seeded = seed_customer(db)
    data, _ = kyc.validate(legal_name="王美", id_number=ID_NUMBER, email="mei@example.com",
                           address="上海市浦东新区世纪大道100号", phone="13812345678")
    assert data is not None
    with db.unit_of_work() as s:
        from atrium.identity import service

        customer = service.get_customer(s, seeded.customer_id)
        assert customer is not None
        kyc.write(customer, data)
        identities.ensure_person(s, seeded.customer_id)
        identities.add_identity(s, customer_id=seeded.customer_id, kind="company_operator",
                                org_name="上海青禾贸易有限公司", org_ref="91310000MA1FL0001X", role="finance")
    return seeded


def sign_in(client, db, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    """A two-factor session straight from the session service (the sign-in pages have their own tests)."""
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=["pwd", "sms"])
    client.cookies.set(SESSION_COOKIE, token)


@pytest.fixture()
def signed_in(client, db, mei):  # type: ignore[no-untyped-def]
    sign_in(client, db, mei.customer_id)
    return client


def test_the_profile_shows_every_detail_masked(signed_in):
    r = signed_in.get("/profile")
    assert r.status_code == 200
    html = r.text
    for masked in ("王*", "110***********002X", "138****5678", "m***@example.com"):
        assert masked in html
    for clear in ("王美", ID_NUMBER, "13812345678", "mei@example.com", "世纪大道100号"):
        assert clear not in html
    assert html.count('action="/profile/reveal/') == 5
    assert 'aria-pressed="false"' in html


def test_show_reveals_one_field_to_its_owner(signed_in):
    token = page_token(signed_in, "/profile")
    htmx = {"HX-Request": "true"}
    r = signed_in.post("/profile/reveal/id_number", data={"csrf_token": token}, headers=htmx)
    assert r.status_code == 200
    assert ID_NUMBER in r.text and 'aria-pressed="true"' in r.text and 'id="field-id_number"' in r.text
    assert "已显示身份证号" in r.text  # announced to screen readers
    assert "王美" not in r.text  # only that field
    assert r.headers["cache-control"] == "no-store"
    hidden = signed_in.get("/profile/fields/id_number", headers={"HX-Request": "true"})
    assert ID_NUMBER not in hidden.text and "110***********002X" in hidden.text


def test_show_works_without_javascript(signed_in):
    token = page_token(signed_in, "/profile")
    r = signed_in.post("/profile/reveal/legal_name", data={"csrf_token": token})
    assert r.status_code == 200 and "王美" in r.text and "<html" in r.text and ID_NUMBER not in r.text
    plain = signed_in.get("/profile/fields/legal_name", follow_redirects=False)
    assert plain.headers["location"] == "/profile"


def test_reveal_needs_csrf_a_session_and_a_known_field(client, signed_in):
    assert signed_in.post("/profile/reveal/id_number").status_code == 403
    token = page_token(signed_in, "/profile")
    assert signed_in.post("/profile/reveal/password_hash", data={"csrf_token": token}).status_code == 404
    signed_in.cookies.delete(SESSION_COOKIE)
    r = signed_in.post("/profile/reveal/id_number", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403  # the CSRF token was bound to the session that is gone
    assert signed_in.get("/profile", follow_redirects=False).status_code == 303


def test_a_customer_without_kyc_sees_not_on_file(client, db):
    other = seed_customer(db, username="lei", display_name="李雷", phone=None)
    sign_in(client, db, other.customer_id)
    html = client.get("/profile").text
    assert html.count("未登记") == 5
    assert 'action="/profile/reveal/' not in html


def test_identities_are_listed_with_the_current_one_marked(signed_in):
    html = signed_in.get("/profile").text
    assert "个人" in html and "上海青禾贸易有限公司" in html and "企业经办人 · 财务" in html
    assert html.count('aria-current="true"') == 1
    assert html.count("/switch") == 1  # only the other identity can be switched to


def test_switching_identity_updates_the_session(signed_in, mei, db):
    with db.read_session() as s:
        company = [i for i in identities.list_identities(s, mei.customer_id) if i.kind != "person"][0]
    token = page_token(signed_in, "/profile")
    r = signed_in.post(f"/profile/identities/{company.id}/switch", data={"csrf_token": token},
                       follow_redirects=False)
    assert r.status_code == 303
    page = signed_in.get(r.headers["location"]).text
    assert "已切换为“上海青禾贸易有限公司”身份" in page
    with db.read_session() as s:
        principal = sessions.authenticate(s, signed_in.cookies[SESSION_COOKIE])
    assert principal.identity_id == company.id


def test_another_customers_identity_cannot_be_switched_to(signed_in, mei, db):
    other = seed_customer(db, username="lei", display_name="李雷")
    with db.unit_of_work() as s:
        theirs = identities.add_identity(
            s, customer_id=other.customer_id, kind="merchant", org_name="李记面馆", org_ref="mch_lei"
        )
    token = page_token(signed_in, "/profile")
    r = signed_in.post(f"/profile/identities/{theirs.id}/switch", data={"csrf_token": token})
    assert r.status_code == 404
    with db.read_session() as s:
        principal = sessions.authenticate(s, signed_in.cookies[SESSION_COOKIE])
    assert principal.identity_id != theirs.id


def test_the_profile_speaks_english(signed_in):
    token = page_token(signed_in, "/profile")
    signed_in.post("/locale", data={"locale": "en", "next": "/profile", "csrf_token": token})
    html = signed_in.get("/profile").text
    assert "My details" in html and "ID card number" in html and "Company operator · Finance" in html


@pytest.fixture()
def profile_server(live_server: str) -> str:
    return live_server


@pytest.mark.browser
def test_show_hide_and_switch_in_chromium(browser, profile_server, db, mei):
    import tempfile
    from pathlib import Path

    from tests.web.browser_support import _WATCH_CSP

    shots = Path(tempfile.gettempdir()) / "shots" / "h7"
    shots.mkdir(parents=True, exist_ok=True)
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=mei.customer_id, amr=["pwd", "sms"])
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=profile_server)
    context.set_default_timeout(10_000)
    context.add_init_script(_WATCH_CSP)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": profile_server}])
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        pg.goto("/profile")
        pg.screenshot(path=str(shots / "6-profile.png"), full_page=True)
        row = pg.locator("#field-id_number")
        row.get_by_role("button", name="显示").click()
        row.get_by_text(ID_NUMBER).wait_for()
        assert pg.locator("#live").inner_text() == "已显示身份证号"
        assert pg.evaluate("document.activeElement.id") == "toggle-id_number"  # focus stays on the toggle
        pg.screenshot(path=str(shots / "7-profile-shown.png"), full_page=True)
        row.get_by_role("button", name="隐藏").click()
        row.get_by_text("110***********002X").wait_for()
        pg.get_by_role("button", name="切换").click()
        pg.get_by_text("已切换为“上海青禾贸易有限公司”身份").wait_for()
        pg.screenshot(path=str(shots / "8-profile-switched.png"), full_page=True)
        violations = pg.evaluate("window.__cspViolations || []")
    finally:
        context.close()
    assert not errors, errors
    assert not violations, violations
