"""The audit log page: who looked at which customer, when and why — for administrators and compliance."""

from __future__ import annotations

import re

from tests.web.mobile.factories import seed_customer
from tests.web.staff.factories import make_staff, sign_in


def test_the_log_lists_every_read_newest_first_and_filters(client, db) -> None:  # type: ignore[no-untyped-def]
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    bo = seed_customer(db, username="bo", display_name="Bo Li", savings=False)
    operator = make_staff(db, "operator", username="op.li", display_name="李运营")
    sign_in(client, operator)
    client.get("/staff/customers", params={"q": "mei"})
    client.get(f"/staff/customers/{mei.customer_id}", params={"reason": "complaint #42"})
    client.get(f"/staff/customers/{bo.customer_id}")

    officer = make_staff(db, "compliance_officer", username="cmp.zhao", display_name="赵合规")
    sign_in(client, officer)
    r = client.get("/staff/audit")
    assert r.status_code == 200
    html = r.text
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\">", html)
    assert len(rows) == 3
    assert html.index(bo.customer_id) < html.index(mei.customer_id)  # newest first
    assert "李运营" in html and "op.li" in html and "运营专员" in html
    assert "查看客户" in html and "查找客户" in html and "shown=1" in html
    assert "complaint #42" in html and "客户服务查询" in html  # the default reason, in the reader's language
    for secret in ("王美丽", "Bo Li", "mei.wang"):
        assert secret not in html
    assert "<caption" in html and '<th scope="col">' in html and '<label for="f-customer">' in html

    one = client.get("/staff/audit", params={"customer_id": mei.customer_id}).text
    assert len(re.findall(r"<tr>\s*<td class=\"nowrap\">", one)) == 1 and "complaint #42" in one
    searches = client.get("/staff/audit", params={"action": "customer.search"}).text
    assert len(re.findall(r"<tr>\s*<td class=\"nowrap\">", searches)) == 1
    by_staff = client.get("/staff/audit", params={"staff_id": officer.id}).text
    assert "没有符合条件的访问记录" in by_staff
    assert client.get("/staff/audit", params={"action": "customer.delete"}).status_code == 422
    # Reading the audit log is not a read of customer data: it records nothing itself.
    assert len(re.findall(r"<tr>\s*<td class=\"nowrap\">", client.get("/staff/audit").text)) == 3


def test_the_log_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    from atrium.staff import service

    admin = make_staff(db, "administrator")
    with db.unit_of_work() as s:
        for _ in range(55):
            service.record_access(
                s, staff_id=admin.id, staff_role="administrator", action="customer.search", detail="shown=0"
            )
    sign_in(client, admin)
    first = client.get("/staff/audit").text
    assert first.count("shown=0") == 50
    next_url = re.search(r'href="(/staff/audit\?[^"]*cursor=[^"]+)"', first)
    assert next_url
    second = client.get(next_url.group(1).replace("&amp;", "&")).text
    assert second.count("shown=0") == 5 and "下一页" not in second
