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


def test_a_reveal_shows_in_the_log_with_its_purpose_and_field_and_exports(client, db) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from atrium.staff import service
    from tests.staff.factories import give_kyc
    from tests.web.staff.factories import csrf_from

    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    give_kyc(db, mei.customer_id)
    manager = make_staff(db, "account_manager", username="am.zhou", display_name="周经理")
    sign_in(client, manager)
    token = csrf_from(client.get(f"/staff/customers/{mei.customer_id}").text)
    r = client.post(
        f"/staff/customers/{mei.customer_id}/reveal/phone",
        data={"csrf_token": token, "category": "complaint", "reason": "投诉 #4471 需回拨客户"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200

    officer = make_staff(db, "compliance_officer", username="cmp.zhao", display_name="赵合规")
    sign_in(client, officer)
    html = client.get("/staff/audit", params={"staff_id": "am.zhou", "action": "customer.unmask"}).text
    [row] = re.findall(r'<tr class="row-flag">.*?</tr>', html, re.S)
    assert "周经理" in row and "查看脱敏字段明文" in row and "身份信息项" in row
    assert "投诉处理" in row and "投诉 #4471 需回拨客户" in row and "field=phone" in row
    assert "13912345678" not in html and "王美丽" not in html
    assert '<option value="customer.unmask" selected>' in html
    assert 'href="/staff/audit/export.csv?staff_id=am.zhou&amp;action=customer.unmask"' in html

    filters = {"staff_id": "am.zhou", "action": "customer.unmask"}
    export = client.get("/staff/audit/export.csv", params=filters)
    assert export.status_code == 200 and export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"].startswith('attachment; filename="staff-access-audit-')
    assert export.headers["cache-control"] == "no-store"
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeff")
    [line] = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert (line["staff_username"], line["action"], line["detail"], line["reason_category"]) == (
        "am.zhou", "customer.unmask", "field=phone", "complaint",
    )
    assert "13912345678" not in text
    with db.read_session() as s:
        [record] = service.list_access(s, action="audit.export").items
    assert record.staff_id == officer.id
    assert record.detail == f"rows=1 staff={manager.id} action=customer.unmask"
    # The export is itself in the log.
    assert "导出审计记录" in client.get("/staff/audit").text


def test_the_log_filters_by_days_and_refuses_bad_ones(client, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from atrium.kit import clock
    from atrium.staff import service

    admin = make_staff(db, "administrator")
    for when in (datetime(2024, 5, 1, 15, 30, tzinfo=UTC), datetime(2024, 5, 1, 16, 30, tzinfo=UTC)):
        previous = clock.use(clock.FrozenClock(when))
        try:
            with db.unit_of_work() as s:
                service.record_access(
                    s, staff_id=admin.id, staff_role="administrator", action="customer.search",
                    detail=f"shown={when.hour}",
                )
        finally:
            clock.use(previous)
    sign_in(client, admin)
    may2 = client.get("/staff/audit", params={"date_from": "2024-05-02", "date_to": "2024-05-02"}).text
    assert "shown=16" in may2 and "shown=15" not in may2  # 00:30 on 2 May in Shanghai
    assert 'value="2024-05-02"' in may2 and "清除筛选" in may2
    assert client.get("/staff/audit", params={"date_from": "2024-13-01"}).status_code == 422
    backwards = {"date_from": "2024-05-03", "date_to": "2024-05-01"}
    assert client.get("/staff/audit", params=backwards).status_code == 422
    assert "没有符合条件的访问记录" in client.get("/staff/audit", params={"staff_id": "nobody"}).text


def test_only_audit_viewers_may_export(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "account_manager"))
    assert client.get("/staff/audit/export.csv").status_code == 403
