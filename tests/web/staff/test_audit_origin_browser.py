"""The audit page's session column in a real browser: a compliance officer follows one staff session from a
record to all of that session's records, and the page passes axe-core. Screenshot:
test-artifacts/screenshots/staff-audit-session.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from atrium.staff import service as staff_service
from tests.web.browser_support import shoot
from tests.web.staff.factories import make_staff
from tests.web.staff.test_browser import _axe

pytestmark = pytest.mark.browser

FIRST = "ses_01JAAAAAAAAAAAAAAAAFIRST1"
SECOND = "ses_01JBBBBBBBBBBBBBBBSECOND2"


def test_the_officer_follows_one_session(desk_page, db):  # type: ignore[no-untyped-def]
    page = desk_page
    operator = make_staff(db, "operator", username="op.li", display_name="李运营")
    make_staff(db, "compliance_officer", username="cmp.zhao", display_name="赵合规")
    for ref, ip, shown in ((FIRST, "203.0.113.7", 1), (SECOND, "2001:db8::1", 2), (SECOND, "2001:db8::1", 3)):
        with db.unit_of_work() as s:
            staff_service.record_access(
                s, staff_id=operator.id, staff_role="operator", action="customer.search",
                detail=f"shown={shown}", origin=staff_service.AccessOrigin(session_ref=ref, ip=ip),
            )

    page.goto("/staff/login?next=/staff/audit")
    page.get_by_label("员工用户名").fill("cmp.zhao")
    page.get_by_label("密码", exact=True).fill("staff password 1")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/staff/audit$"))
    table = page.get_by_role("table", name="客户数据访问记录")
    expect(table.get_by_role("row")).to_have_count(4)  # the header and three records
    expect(table).to_contain_text("2001:db8::1")
    assert _axe(page) == []

    table.get_by_role("link", name=f"…{SECOND[-8:]}").first.click()
    page.wait_for_url(re.compile(rf"/staff/audit\?session_ref={SECOND}$"))
    expect(page.get_by_label("登录会话")).to_have_value(SECOND)
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table).not_to_contain_text("203.0.113.7")
    shoot(page, "staff-audit-session")
    assert _axe(page) == []
