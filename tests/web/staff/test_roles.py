"""Every role × every console page gets exactly what `atrium.staff.permissions` says: the page, or the
403 page — and the sidebar offers exactly the pages the role may open."""

from __future__ import annotations

import re

import pytest

from atrium.app import create_app
from atrium.staff import permissions
from atrium.staff.permissions import ROLES
from atrium.web import staff as console
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import csrf_from, make_staff, sign_in
from tests.web.test_routes_auth import endpoints

# (method, path template, the action the page needs). {customer} is filled with a real customer's id.
PAGES = [
    ("GET", "/staff", "dashboard.view"),
    ("POST", "/staff/ledger/check", "ledger.check"),
    ("GET", "/staff/customers?q=mei", "customers.view"),
    ("GET", "/staff/customers/{customer}", "customers.view"),
    ("GET", "/staff/audit", "audit.view"),
    ("GET", "/staff/limits", "limits.view"),
    ("GET", "/staff/limits/mobile/own_transfer/CNY", "limits.edit"),
    ("POST", "/staff/limits/mobile/own_transfer/CNY", "limits.edit"),
    ("GET", "/staff/merchants", "merchants.view"),
]
NAV = {
    "dashboard.view": "/staff",
    "customers.view": "/staff/customers",
    "limits.view": "/staff/limits",
    "merchants.view": "/staff/merchants",
    "audit.view": "/staff/audit",
}
_NAV_LINK = re.compile(r'<nav class="sidenav".*?</nav>', re.S)


def test_the_matrix_covers_every_console_page() -> None:
    covered = {(m, re.sub(r"\?.*", "", p).replace("{customer}", "{customer_id}")) for m, p, _ in PAGES}
    covered = {
        (m, p.replace("/mobile/own_transfer/CNY", "/{channel}/{method}/{currency}")) for m, p in covered
    }
    pages = {e.key for e in endpoints(create_app(start_background=False)) if e.path.startswith("/staff")}
    pages -= set(console.PUBLIC_PAGES) | {("GET", "/staff/{rest:path}")}
    assert pages == covered


def _request(client, method: str, path: str):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path, follow_redirects=False)
    token = csrf_from(client.get("/staff").text)
    data = {"csrf_token": token, "per_transaction": "5,000.00", "daily": "50,000", "monthly": "200000"}
    return client.post(path, data=data, follow_redirects=False)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_pages(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    user = make_staff(db, role)
    sign_in(client, user)
    wrong = []
    for method, template, action in PAGES:
        path = template.format(customer=who.customer_id)
        r = _request(client, method, path)
        if permissions.allowed(role, action):
            ok = r.status_code == 200 or (method == "POST" and r.status_code == 303 and "ledger" not in path)
        else:
            ok = r.status_code == 403 and "无权访问" in r.text and "王美丽" not in r.text
        if not ok:
            wrong.append((role, method, path, r.status_code))
    assert not wrong, wrong


@pytest.mark.parametrize("role", ROLES)
def test_the_sidebar_offers_exactly_the_pages_of_the_role(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, role))
    html = client.get("/staff").text
    nav = _NAV_LINK.search(html)
    assert nav, "no sidebar"
    offered = set(re.findall(r'<a href="([^"]+)"', nav.group(0)))
    assert offered == {href for action, href in NAV.items() if permissions.allowed(role, action)}
    assert 'aria-current="page"' in nav.group(0)


def test_a_staff_user_with_an_unknown_role_may_open_nothing(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "teller"))
    for method, template, _ in PAGES:
        r = _request(client, method, template.format(customer="cus_x"))
        assert r.status_code == 403, (method, template)
