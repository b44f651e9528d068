"""Every page, the same four checks: it renders for a signed-in customer, sends a visitor to /login, refuses
a write without a CSRF token, and follows the language switch."""

from __future__ import annotations

import pytest

from tests.web.mobile.factories import Seeded, page_token

PAGES = ["/", "/accounts/{current}", "/transfer", "/limits", "/settings", "/pay/qr"]
WRITES = [
    ("POST", "/transfer/review"),
    ("POST", "/transfer/edit"),
    ("POST", "/transfer/confirm"),
    ("PUT", "/limits/switches/overseas"),
    ("POST", "/limits/switches/overseas"),
    ("PUT", "/limits/own/qr_payment"),
    ("POST", "/limits/own/qr_payment"),
    ("POST", "/pay/qr/review"),
    ("POST", "/pay/qr/confirm"),
    ("POST", "/logout"),
    ("POST", "/locale"),
    ("POST", "/login"),
]


def _path(template: str, customer: Seeded) -> str:
    return template.format(current=customer.accounts[0].id)


@pytest.mark.parametrize("template", PAGES)
def test_page_renders_with_landmarks(signed_in, customer, template):
    r = signed_in.get(_path(template, customer))
    assert r.status_code == 200
    html = r.text
    assert '<main id="main"' in html and 'class="skip-link"' in html
    assert '<nav class="tabbar" aria-label="主导航">' in html
    assert 'id="live" class="sr-only" role="status" aria-live="polite"' in html
    assert "<h1" in html
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("template", PAGES)
def test_page_sends_a_visitor_to_login(client, customer, template):
    path = _path(template, customer)
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] in ("/login", f"/login?next={path}")


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_write_without_csrf_is_403(signed_in, method, path):
    r = signed_in.request(method, path, data={"on": "true", "locale": "en"}, follow_redirects=False)
    assert r.status_code == 403
    assert "页面已过期" in r.text


@pytest.mark.parametrize("template", PAGES)
def test_page_follows_the_language_switch(signed_in, customer, template):
    path = _path(template, customer)
    token = page_token(signed_in, path)
    switched = signed_in.post("/locale", data={"locale": "en", "next": path, "csrf_token": token})
    assert switched.status_code == 200
    assert '<html lang="en">' in switched.text
    assert 'aria-label="Main navigation"' in switched.text
    assert "首页" not in switched.text


def test_an_oversized_form_field_is_an_html_400_not_a_json_problem(signed_in, customer):
    token = page_token(signed_in, "/transfer")
    r = signed_in.post("/transfer/review", data={"csrf_token": token, "amount": "9" * 500})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "请求无效" in r.text


def test_the_api_still_answers_problems(signed_in):
    """The page error handling is confined to pages: API errors stay RFC 9457 problems."""
    r = signed_in.get("/api/v1/accounts/acc_nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
