"""Each role sees exactly what its permissions allow on the customer screens: the sidebar entries, the
pages, the reveal buttons — and what it is refused writes no audit record."""

from __future__ import annotations

import re

import pytest

from atrium.staff import permissions
from atrium.staff import service as staff_service
from atrium.staff.permissions import ROLES
from tests.web.staff.customer_book import leaked, make_book
from tests.web.staff.factories import csrf_from, make_staff, sign_in

_SIDEBAR = re.compile(r'<nav class="sidenav".*?</nav>', re.S)


def _records(db):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, limit=200).items


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_what_it_may(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    book = make_book(db)
    cid = book.mei.customer_id
    sign_in(client, make_staff(db, role))
    token = csrf_from(client.get("/staff").text)
    sidebar = _SIDEBAR.search(client.get("/staff").text)
    assert sidebar
    links = set(re.findall(r'<a href="([^"]+)"', sidebar.group(0)))
    can_view = permissions.allowed(role, "customers.view")
    can_unmask = permissions.allowed(role, "customers.unmask")
    can_audit = permissions.allowed(role, "audit.view")
    assert ("/staff/customers" in links) == can_view
    assert ("/staff/audit" in links) == can_audit

    pages = {
        "search": client.get("/staff/customers", params={"q": "mei"}),
        "360": client.get(f"/staff/customers/{cid}"),
        "section": client.get(f"/staff/customers/{cid}/sections/security", headers={"HX-Request": "true"}),
        "account": client.get(f"/staff/accounts/{book.mei.accounts[0].id}"),
        "transfer": client.get(f"/staff/transfers/{book.transfer_id}"),
    }
    for name, r in pages.items():
        assert r.status_code == (200 if can_view else 403), (role, name, r.status_code)
        assert leaked(r.text, book) == [], (role, name)
    reads = len(_records(db))
    assert reads == (5 if can_view else 0)  # one record per page read, none for a refused one
    if can_view:
        assert ('hx-post="/staff/customers/' in pages["360"].text) == can_unmask
        assert ("您的角色无权查看脱敏字段的明文" in pages["360"].text) == (not can_unmask)

    reveal = client.post(
        f"/staff/customers/{cid}/reveal/phone",
        data={"csrf_token": token, "category": "identity_check", "reason": "客户来电核实身份，已回拨"},
        headers={"HX-Request": "true"},
    )
    assert reveal.status_code == (200 if can_unmask else 403)
    assert ("+8613912345678" in reveal.text) == can_unmask
    unmasks = [r for r in _records(db) if r.action == "customer.unmask"]
    assert len(unmasks) == (1 if can_unmask else 0)

    audit = client.get("/staff/audit")
    assert audit.status_code == (200 if can_audit else 403)
    export = client.get("/staff/audit/export.csv")
    assert export.status_code == (200 if can_audit else 403)
    if can_audit:
        assert 'href="/staff/audit/export.csv"' in audit.text
        assert [r.action for r in _records(db)].count("audit.export") == 1
