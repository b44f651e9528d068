"""Settings: profile, the language switch, sign out."""

from __future__ import annotations

from tests.web.mobile.factories import page_token


def test_settings_shows_profile_language_and_logout(signed_in, customer):
    r = signed_in.get("/settings")
    assert r.status_code == 200
    html = r.text
    assert "王美" in html and "用户名：mei" in html
    assert 'name="locale" value="zh" data-autosubmit checked' in html
    assert 'name="locale" value="en"' in html
    assert 'action="/logout"' in html
    assert 'href="/settings" class="tab-me" aria-current="page"' in html


def test_switching_to_english_from_settings(signed_in):
    token = page_token(signed_in, "/settings")
    r = signed_in.post("/locale", data={"locale": "en", "next": "/settings", "csrf_token": token})
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "Sign out" in r.text and 'value="en" data-autosubmit checked' in r.text


def test_unknown_page_paths_are_404(signed_in):
    assert signed_in.get("/no-such-page").status_code == 404
