"""Every role × every console page gets exactly what `atrium.staff.permissions` says: the page, or the
403 page — and the sidebar offers exactly the pages the role may open."""

from __future__ import annotations

import re

import pytest

from atrium.antiphishing import service as phishing
from atrium.app import create_app
from atrium.identity.protection import lockout
from atrium.staff import permissions
from atrium.staff.permissions import ROLES
from atrium.web import staff as console
from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import csrf_from, make_staff, sign_in
from tests.web.test_routes_auth import endpoints

# (method, path template, the action the page needs). {customer} is filled with a real (locked) customer's
# id, {channel} with a registered phishing-check channel's.
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
    ("GET", "/staff/customers/{customer}/lock", "customers.view"),
    ("POST", "/staff/customers/{customer}/unlock", "customers.unlock"),
    ("GET", "/staff/phishing", "phishing.manage"),
    ("POST", "/staff/phishing", "phishing.manage"),
    ("POST", "/staff/phishing/{channel}/retire", "phishing.manage"),
]
NAV = {
    "dashboard.view": "/staff",
    "customers.view": "/staff/customers",
    "limits.view": "/staff/limits",
    "merchants.view": "/staff/merchants",
    "audit.view": "/staff/audit",
    "phishing.manage": "/staff/phishing",
}
# What each kind of form posts (anything else posts a bank limit).
FORMS = {
    "/unlock": {"reason": "caller verified by the branch"},
    "/staff/phishing": {"kind": "web", "value": "roles-check.example", "label": "Roles check"},
    "/retire": {},
}
_NAV_LINK = re.compile(r'<nav class="sidenav".*?</nav>', re.S)


def test_the_matrix_covers_every_console_page() -> None:
    ids = {"{customer}": "{customer_id}", "{channel}": "{channel_id}"}
    covered = {(m, re.sub(r"\?.*|\{customer\}|\{channel\}", lambda x: ids.get(x.group(0), ""), p))
               for m, p, _ in PAGES}
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
    form = next((f for end, f in FORMS.items() if path.endswith(end)), None)
    if form is None:
        form = {"per_transaction": "5,000.00", "daily": "50,000", "monthly": "200000"}
    return client.post(path, data={"csrf_token": token, **form}, follow_redirects=False)


def _locked(db, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    """Enough wrong passwords for a temporary sign-in lock (so there is something to unlock)."""
    for _ in range(lockout.policy().max_failures):
        db.run(lambda s: lockout.record_failure(s, customer_id))


def _channel(db) -> str:  # type: ignore[no-untyped-def]
    admin = make_staff(db, "administrator", username="channel-admin")
    with db.unit_of_work() as s:
        return phishing.add_channel(
            s, staff_id=admin.id, staff_role=admin.role, kind="sms", value="95588", label="Roles"
        ).id


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_pages(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    _locked(db, who.customer_id)
    channel = _channel(db)
    user = make_staff(db, role)
    sign_in(client, user)
    wrong = []
    for method, template, action in PAGES:
        path = template.format(customer=who.customer_id, channel=channel)
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
        r = _request(client, method, template.format(customer="cus_x", channel="chn_x"))
        assert r.status_code == 403, (method, template)
