"""Signing in and out through the pages; CSRF; what an anonymous visitor gets."""

from __future__ import annotations

from atrium.web.deps import SESSION_COOKIE
from atrium.web.mobile import PUBLIC_PAGES
from atrium.web.mobile.csrf import CSRF_COOKIE
from tests.auth_support import last_code
from tests.web.mobile.factories import csrf_from, form_fields, login, page_token, seed_customer


def test_login_page_renders_a_labelled_form_with_a_csrf_token(client, db):
    r = client.get("/login")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<label for="username">' in r.text and '<label for="password">' in r.text
    assert 'autocomplete="current-password"' in r.text
    assert csrf_from(r.text)
    assert CSRF_COOKIE in r.cookies
    assert 'class="skip-link" href="#main"' in r.text


def test_login_sets_the_session_cookie_and_goes_to_next(client, customer):
    token = csrf_from(client.get("/login").text)
    r = client.post(
        "/login",
        data={
            "username": customer.username,
            "password": customer.password,
            "csrf_token": token,
            "next": "/limits",
        },
        follow_redirects=False,
    )
    # The password alone does not sign in: the second-factor page, which carries `next` along.
    assert r.status_code == 200 and 'action="/login/verify/send"' in r.text
    assert SESSION_COOKIE not in client.cookies
    form = form_fields(r.text, "/login/verify/send")
    assert form["next"] == "/limits" and form["methods"] == "sms"
    keep = {k: form[k] for k in ("ticket", "methods", "phone_masked", "next")}
    sent = client.post("/login/verify/send", data=keep | {"csrf_token": csrf_from(r.text)})
    assert sent.status_code == 200 and SESSION_COOKIE not in client.cookies
    r = client.post(
        "/login/verify",
        data=keep | {"method": "sms", "code": last_code(customer.phone), "csrf_token": csrf_from(sent.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/limits"
    set_cookie = r.headers["set-cookie"]
    assert SESSION_COOKIE in set_cookie and "HttpOnly" in set_cookie and "samesite=lax" in set_cookie.lower()
    assert client.get("/").status_code == 200


def test_wrong_password_shows_an_inline_error(client, customer):
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": customer.username, "password": "nope", "csrf_token": token})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert 'aria-invalid="true"' in r.text
    assert SESSION_COOKIE not in client.cookies


def test_empty_fields_are_refused_inline(client, db):
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": " ", "password": "", "csrf_token": token})
    assert r.status_code == 422
    assert "请输入用户名和密码" in r.text


def test_login_without_csrf_token_is_403(client, customer):
    client.get("/login")
    r = client.post("/login", data={"username": customer.username, "password": customer.password})
    assert r.status_code == 403
    assert "页面已过期" in r.text
    assert SESSION_COOKIE not in client.cookies


def test_a_forged_csrf_token_is_403(client, customer):
    client.get("/login")
    r = client.post(
        "/login", data={"username": customer.username, "password": customer.password, "csrf_token": "0" * 64}
    )
    assert r.status_code == 403


def test_a_token_from_another_browser_is_403(client, customer, db):
    """The token is bound to the nonce cookie: a token copied into another browser's form fails."""
    token = csrf_from(client.get("/login").text)
    client.cookies.clear()
    client.get("/login")  # a new nonce cookie
    r = client.post(
        "/login", data={"username": customer.username, "password": customer.password, "csrf_token": token}
    )
    assert r.status_code == 403


def test_next_cannot_leave_the_site(client, db):
    for i, target in enumerate(("https://evil.example/", "//evil.example/", "/\\evil.example")):
        client.cookies.pop(SESSION_COOKIE, None)
        # One customer per try: each sign-in texts a code, and a phone gets one a minute.
        someone = seed_customer(db, username=f"next-{i}", balance_minor=0, savings=False)
        r = login(client, someone, next_url=target)
        assert r.status_code == 303
        assert r.headers["location"] == "/", target


def test_anonymous_pages_redirect_to_login_with_next(client, db):
    r = client.get("/limits", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/limits"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_anonymous_htmx_request_gets_hx_redirect(client, db):
    r = client.get(
        "/accounts/acc_x/entries?cursor=abc", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert r.status_code == 401
    assert r.headers["hx-redirect"].startswith("/login?next=")


def test_a_signed_in_customer_is_sent_home_from_login(signed_in):
    r = signed_in.get("/login", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_logout_ends_the_session(signed_in):
    token = page_token(signed_in)
    old_session = signed_in.cookies[SESSION_COOKIE]
    r = signed_in.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # The server revoked it: even a replayed cookie no longer opens a page.
    signed_in.cookies.set(SESSION_COOKIE, old_session)
    assert signed_in.get("/", follow_redirects=False).headers["location"] == "/login"


def test_logout_needs_the_csrf_token(signed_in):
    r = signed_in.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert signed_in.get("/").status_code == 200


def test_a_staff_session_cannot_open_customer_pages(client, db):
    from atrium.identity import service as identity

    with db.unit_of_work() as s:
        identity.create_staff(
            s, username="op", password="staff password 1", display_name="Op", role="operator"
        )
    r = client.post(
        "/api/v1/auth/login", json={"username": "op", "password": "staff password 1", "kind": "staff"}
    )
    assert r.status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_public_pages_match_the_route_audit_list():
    from atrium.web.deps import PUBLIC_ROUTES

    assert PUBLIC_PAGES <= PUBLIC_ROUTES


def test_login_after_session_cookie_changes_needs_a_fresh_token(client, customer):
    """A token is bound to the session it was issued in: after signing in, the login page's token is stale."""
    token = csrf_from(client.get("/login").text)
    login(client, customer)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403
