"""Signing in to the console, signing out, and who is kept out: visitors go to the staff sign-in, a
customer's session gets a 403 page, forms need their CSRF token."""

from __future__ import annotations

import pytest

from atrium.app import create_app
from atrium.web import staff as console
from atrium.web.deps import PUBLIC_ROUTES
from tests.web.mobile.factories import login as customer_login
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import csrf_from, make_staff, page_token, sign_in
from tests.web.test_routes_auth import endpoints

PROTECTED_GETS = [
    "/staff",
    "/staff/customers",
    "/staff/customers?q=mei",
    "/staff/customers/cus_x",
    "/staff/audit",
    "/staff/limits",
    "/staff/limits/mobile/own_transfer/CNY",
    "/staff/merchants",
    "/staff/anything",
]


def _console_routes() -> list[tuple[str, str]]:
    return [e.key for e in endpoints(create_app(start_background=False)) if e.path.startswith("/staff")]


def test_the_public_pages_are_registered_as_public_routes() -> None:
    assert console.PUBLIC_PAGES <= PUBLIC_ROUTES
    routes = _console_routes()
    assert len(routes) > 10, routes
    assert {k for k in routes if k in PUBLIC_ROUTES} == set(console.PUBLIC_PAGES)


def test_the_sign_in_page(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/staff/login", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    html = r.text
    assert '<html lang="zh-CN">' in html and "员工登录" in html
    assert '<label for="username">' in html and '<label for="password">' in html
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "atrium_csrf" in r.headers.get("set-cookie", "")
    english = client.get("/staff/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Staff sign-in" in english.text


@pytest.mark.parametrize("path", PROTECTED_GETS)
def test_a_visitor_is_sent_to_the_staff_sign_in(client, path: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location == "/staff/login" if path == "/staff" else location.startswith("/staff/login?next=/staff")


def test_an_htmx_request_without_a_session_reloads_at_the_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/staff/customers", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 401
    assert r.headers["hx-redirect"] == "/staff/login?next=/staff/customers"


def test_sign_in_goes_to_the_page_asked_for(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_staff(db, "operator")
    r = client.get("/staff/limits", follow_redirects=False)
    login_page = client.get(r.headers["location"])
    assert 'name="next" value="/staff/limits"' in login_page.text
    sign_in(client, user, next_url="/staff/limits")
    r = client.get("/staff/limits")
    assert r.status_code == 200 and "Test Operator" in r.text
    assert client.get("/staff/login", follow_redirects=False).headers["location"] == "/staff"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/transfer", "/staffing", "/\\evil", "/staff/\nx"]
)
def test_sign_in_never_redirects_off_the_console(client, db, target: str) -> None:  # type: ignore[no-untyped-def]
    user = make_staff(db, "operator")
    token = csrf_from(client.get("/staff/login").text)
    r = client.post(
        "/staff/login",
        data={"username": user.username, "password": user.password, "next": target, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/staff"


def test_wrong_or_missing_credentials_show_the_form_again(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_staff(db, "operator")
    token = csrf_from(client.get("/staff/login").text)
    r = client.post("/staff/login", data={"username": user.username, "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.text and 'aria-invalid="true"' in r.text
    assert 'value="operator-1"' in r.text and "nope" not in r.text
    r = client.post("/staff/login", data={"username": " ", "password": "", "csrf_token": token})
    assert r.status_code == 422 and "请输入用户名和密码" in r.text
    assert "atrium_session" not in client.cookies


def test_a_customer_cannot_sign_in_to_the_console(client, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db)
    token = csrf_from(client.get("/staff/login").text)
    r = client.post(
        "/staff/login", data={"username": who.username, "password": who.password, "csrf_token": token}
    )
    assert r.status_code == 401


@pytest.mark.parametrize("path", PROTECTED_GETS)
def test_a_customer_session_gets_a_403_page(client, db, path: str) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, display_name="王美丽")
    customer_login(client, who)
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 403
    assert "这是员工控制台" in r.text and 'href="/staff/login"' in r.text
    assert "王美丽" not in r.text and 'class="sidenav"' not in r.text


def test_forms_need_their_csrf_token(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_staff(db, "administrator")
    r = client.post("/staff/login", data={"username": user.username, "password": user.password})
    assert r.status_code == 403 and "页面已过期" in r.text
    sign_in(client, user)
    for path in ("/staff/ledger/check", "/staff/limits/mobile/own_transfer/CNY", "/staff/logout"):
        r = client.post(path, data={"csrf_token": "0" * 64}, follow_redirects=False)
        assert r.status_code == 403, path
    assert client.get("/staff").status_code == 200  # still signed in: the forged sign-out did nothing


def test_sign_out_ends_the_session(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_staff(db, "operator")
    sign_in(client, user)
    stolen = client.cookies.get("atrium_session")
    token = page_token(client)
    r = client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    assert "atrium_session" not in client.cookies
    client.cookies.set("atrium_session", stolen)
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/staff/login"


def test_an_unknown_console_page_is_a_404_page_for_staff(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "account_manager"))
    r = client.get("/staff/no/such/page")
    assert r.status_code == 404 and "页面不存在" in r.text and 'class="sidenav"' in r.text
