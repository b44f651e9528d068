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


def test_settings_offers_the_display_mode_and_a_person_to_call(signed_in):
    html = signed_in.get("/settings").text
    assert '<form class="mode-choice" method="post" action="/display-mode">' in html
    assert '<div class="mode-options" role="group" aria-labelledby="mode-head">' in html
    assert 'value="standard"\n                aria-pressed="true"' in html
    assert 'value="elder"\n                aria-pressed="false"' in html
    assert "标准版" in html and "长辈版" in html
    assert '<a class="row" href="tel:4008001234">' in html and "联系人工客服" in html
    assert "版本" in html  # standard mode keeps the version line; elder mode leaves it out
