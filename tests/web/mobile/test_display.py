"""The display mode (standard or elder): chosen on the sign-in page or in settings, remembered in the
browser's cookie and — for a signed-in customer — stored on them (and recorded); the API reads and sets
it; another customer's preference is never touched; elder pages carry the hotline and fewer tabs."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from atrium.config import Settings
from atrium.identity import service as identity
from atrium.web.mobile.display import MODE_COOKIE
from atrium.web.mobile.templating import default_tabs, hotline_tel
from tests.web.mobile.factories import csrf_from, login, page_token, seed_customer


def _choose(client, mode: str, *, page: str = "/login", next_url: str = "/login"):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).text)
    return client.post(
        "/display-mode", data={"ui_mode": mode, "next": next_url, "csrf_token": token}, follow_redirects=False
    )


def _stored(db, customer_id: str) -> str | None:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return identity.ui_mode_of(s, customer_id)


def _is_elder(html: str) -> bool:
    return '<html lang="zh-CN" class="mode-elder">' in html or '<html lang="en" class="mode-elder">' in html


def test_the_sign_in_page_has_a_visible_switch_that_is_off_by_default(client, db):
    html = client.get("/login").text
    assert not _is_elder(html)
    form = r'<form class="mode-switch" method="post" action="/display-mode">(.*?)</form>'
    switch = re.search(form, html, re.S)
    assert switch, "the sign-in page has no display-mode switch"
    assert 'name="ui_mode" value="elder" aria-pressed="false"' in switch.group(1)
    assert "长辈版" in switch.group(1)
    assert "data-call-us" not in html  # the hotline bar is elder mode's


def test_signed_out_choice_lives_in_a_long_lived_cookie(client, db):
    r = _choose(client, "elder")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(MODE_COOKIE + "="))
    assert "elder" in cookie and "Max-Age=63072000" in cookie and "HttpOnly" in cookie
    html = client.get("/login").text
    assert _is_elder(html)
    assert 'name="ui_mode" value="standard" aria-pressed="true"' in html
    # Elder mode keeps a person one tap away, even on a page that draws its own header.
    assert re.search(r'<div class="callbar"><a class="call-us" href="tel:4008001234" data-call-us', html)
    back = _choose(client, "standard")
    assert back.status_code == 303 and client.cookies[MODE_COOKIE] == "standard"
    assert not _is_elder(client.get("/login").text)


def test_the_switch_refuses_unknown_modes_and_needs_csrf(client, db):
    r = _choose(client, "huge")
    assert r.status_code == 422 and MODE_COOKIE not in client.cookies
    assert client.post("/display-mode", data={"ui_mode": "elder"}).status_code == 403
    assert MODE_COOKIE not in client.cookies


def test_the_switch_only_returns_to_this_site(client, db):
    r = _choose(client, "elder", next_url="https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_signed_in_choice_is_stored_recorded_and_leaves_others_alone(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        identity.set_ui_mode(s, other.customer_id, "standard", channel="api")
    assert _stored(db, customer.customer_id) is None  # never chosen
    settings = signed_in.get("/settings").text
    assert 'name="ui_mode" value="standard"\n                aria-pressed="true"' in settings
    r = _choose(signed_in, "elder", page="/settings", next_url="/settings")
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    assert signed_in.cookies[MODE_COOKIE] == "elder"
    assert _stored(db, customer.customer_id) == "elder"
    assert _stored(db, other.customer_id) == "standard"  # untouched
    with db.read_session() as s:
        changes = identity.preference_changes(s, customer.customer_id)
        others = identity.preference_changes(s, other.customer_id)
    recorded = [(c.name, c.old_value, c.new_value, c.channel) for c in changes]
    assert recorded == [("ui_mode", None, "elder", "mobile")]
    assert changes[0].sid  # the session that made it
    assert len(others) == 1
    page = signed_in.get("/settings").text
    assert _is_elder(page)
    assert 'name="ui_mode" value="elder"\n                aria-pressed="true"' in page
    # Choosing the mode it already has changes and records nothing.
    _choose(signed_in, "elder", page="/settings", next_url="/settings")
    with db.read_session() as s:
        assert len(identity.preference_changes(s, customer.customer_id)) == 1


def test_the_stored_choice_wins_over_the_cookie_and_the_cookie_follows_it(client, customer, db):
    with db.unit_of_work() as s:
        identity.set_ui_mode(s, customer.customer_id, "elder", channel="api")
    _choose(client, "standard")  # this browser said standard before signing in
    login(client, customer)
    r = client.get("/settings")
    assert _is_elder(r.text)
    assert any(h.startswith(f"{MODE_COOKIE}=elder") for h in r.headers.get_list("set-cookie"))
    assert client.cookies[MODE_COOKIE] == "elder"
    # Signed out, the sign-in page keeps the mode its person uses.
    client.post("/logout", data={"csrf_token": page_token(client, "/settings")})
    assert _is_elder(client.get("/login").text)


def test_the_next_person_on_this_browser_gets_their_own_mode(client, customer, db):
    _choose(client, "elder")
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        identity.set_ui_mode(s, other.customer_id, "standard", channel="api")
    login(client, other)
    assert not _is_elder(client.get("/settings").text)
    assert client.cookies[MODE_COOKIE] == "standard"
    assert _stored(db, customer.customer_id) is None


def test_a_customer_who_never_chose_follows_the_browser(client, customer, db):
    _choose(client, "elder")
    login(client, customer)
    assert _is_elder(client.get("/settings").text)
    assert _stored(db, customer.customer_id) is None
    assert client.cookies[MODE_COOKIE] == "elder"


def test_the_api_reads_and_sets_the_preference(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    r = signed_in.get("/api/v1/auth/profile/display-mode")
    assert r.status_code == 200 and r.json() == {"ui_mode": "standard", "chosen": False}
    r = signed_in.put("/api/v1/auth/profile/display-mode", json={"ui_mode": "elder"})
    assert r.status_code == 200 and r.json() == {"ui_mode": "elder", "chosen": True}
    assert signed_in.get("/api/v1/auth/profile/display-mode").json() == {"ui_mode": "elder", "chosen": True}
    assert _is_elder(signed_in.get("/settings").text)  # the pages follow the stored choice
    with db.read_session() as s:
        assert identity.preference_changes(s, customer.customer_id)[0].channel == "api"
    assert _stored(db, other.customer_id) is None
    bad = signed_in.put("/api/v1/auth/profile/display-mode", json={"ui_mode": "huge"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    extra = signed_in.put("/api/v1/auth/profile/display-mode", json={"ui_mode": "elder", "customer_id": "x"})
    assert extra.status_code == 422
    assert _stored(db, customer.customer_id) == "elder"


def test_the_api_needs_a_customer(client, db):
    assert client.get("/api/v1/auth/profile/display-mode").status_code == 401
    assert client.put("/api/v1/auth/profile/display-mode", json={"ui_mode": "elder"}).status_code == 401


def test_the_service_refuses_unknown_modes_and_customers(db):
    from atrium.kit.errors import NotFound, ValidationFailed

    who = seed_customer(db, username="ui", savings=False)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        identity.set_ui_mode(s, who.customer_id, "large")
    with db.unit_of_work() as s, pytest.raises(NotFound):
        identity.set_ui_mode(s, "cus_nobody", "elder")
    assert _stored(db, who.customer_id) is None


def test_elder_pages_call_a_person_from_the_app_bar_and_settings(signed_in, db):
    _choose(signed_in, "elder", page="/settings", next_url="/settings")
    html = signed_in.get("/transfer").text
    appbar = re.search(r'<header class="appbar">(.*?)</header>', html, re.S)
    assert appbar, "no app bar"
    assert 'href="tel:4008001234" data-call-us aria-label="致电人工客服 400-800-1234"' in appbar.group(1)
    assert "<span>客服</span>" in appbar.group(1)
    assert 'class="callbar"' not in html  # once is enough
    settings = signed_in.get("/settings").text
    assert '<a class="row" href="tel:4008001234">' in settings and "400-800-1234" in settings
    # Standard mode: settings still lists the hotline, the app bar has no call button.
    _choose(signed_in, "standard", page="/settings", next_url="/settings")
    standard = signed_in.get("/transfer").text
    assert "data-call-us" not in standard
    assert '<a class="row" href="tel:4008001234">' in signed_in.get("/settings").text


def test_elder_mode_shows_fewer_default_tabs():
    assert [t["key"] for t in default_tabs("zh")] == ["home", "transfer", "scan", "limits", "me"]
    assert [t["key"] for t in default_tabs("zh", "elder")] == ["home", "transfer", "scan", "me"]


@pytest.mark.parametrize(
    ("number", "href"),
    [("400-800-1234", "tel:4008001234"), ("+86 21 6888 8888", "tel:+862168888888"), ("95588", "tel:95588")],
)
def test_the_hotline_becomes_a_tel_link(number, href):
    assert hotline_tel(number) == href
    assert Settings(support={"hotline": number}).support.hotline == number


@pytest.mark.parametrize("number", ["javascript:alert(1)", "", "12", "400-800-1234;x"])
def test_the_hotline_setting_takes_phone_numbers_only(number):
    with pytest.raises(ValidationError):
        Settings(support={"hotline": number})
