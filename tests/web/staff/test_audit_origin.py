"""Every access record the console writes names the staff session it came from (its public id, never the
cookie) and the client address; the audit page shows both, filters by session, and the CSV carries them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from atrium.identity.models import AuthSession
from atrium.identity.sessions import digest
from atrium.staff import service as staff_service
from tests.staff.factories import give_kyc
from tests.web.mobile.factories import seed_customer
from tests.web.staff import risk_support as rs
from tests.web.staff.factories import StaffUser, csrf_from, make_staff, pay, sign_in

ADDRESS = "203.0.113.7"
COOKIE = "atrium_session"


@pytest.fixture()
def remote(db) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A console client whose requests come from ADDRESS (the socket peer the app sees)."""
    from atrium.app import create_app

    with TestClient(create_app(start_background=False), client=(ADDRESS, 50123)) as c:
        yield c


def _sids(db, user: StaffUser) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        rows = s.scalars(select(AuthSession).where(AuthSession.staff_id == user.id).order_by(AuthSession.sid))
        return [r.sid for r in rows]


def _records(db, **filters):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, **filters).items


def test_every_console_read_records_the_session_id_and_address_never_the_cookie(remote, db) -> None:  # type: ignore[no-untyped-def]
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    lan = seed_customer(db, username="lan", display_name="林兰", savings=False)
    give_kyc(db, mei.customer_id)
    transfer_id = pay(db, customer_id=mei.customer_id, from_account_id=mei.accounts[0].id,
                      to_account_number=lan.accounts[0].number, amount_minor=120_00)
    manager = make_staff(db, "account_manager", username="am.zhou", display_name="周经理")
    sign_in(remote, manager)
    cookie = remote.cookies[COOKIE]
    assert remote.get("/staff/customers", params={"q": "mei"}).status_code == 200
    page = remote.get(f"/staff/customers/{mei.customer_id}")
    assert page.status_code == 200
    assert remote.get(f"/staff/customers/{mei.customer_id}/sections/security").status_code == 200
    assert remote.post(
        f"/staff/customers/{mei.customer_id}/reveal/phone",
        data={"csrf_token": csrf_from(page.text), "category": "complaint", "reason": "投诉 #4471 需回拨客户"},
        headers={"HX-Request": "true"},
    ).status_code == 200
    assert remote.get(f"/staff/accounts/{mei.accounts[0].id}").status_code == 200
    assert remote.get(f"/staff/transfers/{transfer_id}").status_code == 200

    [sid] = _sids(db, manager)
    records = _records(db, staff_id=manager.id)
    assert sorted(r.action for r in records) == [
        "account.view", "customer.search", "customer.unmask", "customer.view", "customer.view",
        "transfer.view",
    ]
    assert {(r.session_ref, r.ip) for r in records} == {(sid, ADDRESS)}
    # A reference to the session, not a credential: neither the cookie nor the digest the session is looked
    # up by.
    assert sid.startswith("ses_") and sid not in (cookie, digest(cookie))

    # Outside a request (this test's own thread, after the requests): no origin.
    with db.unit_of_work() as s:
        job = staff_service.record_access(
            s, staff_id=manager.id, staff_role="account_manager", action="customer.search", detail="shown=0"
        )
    assert (job.session_ref, job.ip) == (None, None)


def test_a_new_sign_in_is_a_new_session_and_the_page_follows_one(remote, db) -> None:  # type: ignore[no-untyped-def]
    mei = seed_customer(db, username="mei.wang", display_name="王美丽")
    operator = make_staff(db, "operator", username="op.li", display_name="李运营")
    sign_in(remote, operator)
    remote.get(f"/staff/customers/{mei.customer_id}")
    sign_in(remote, operator)
    remote.get("/staff/customers", params={"q": "mei"})
    remote.get(f"/staff/customers/{mei.customer_id}")
    first, second = _sids(db, operator)
    with db.unit_of_work() as s:  # a job's record: no session, no address
        staff_service.record_access(
            s, staff_id=operator.id, staff_role="operator", action="customer.search", detail="shown=job"
        )

    officer = make_staff(db, "compliance_officer", username="cmp.zhao", display_name="赵合规")
    sign_in(remote, officer)
    html = remote.get("/staff/audit", params={"staff_id": "op.li"}).text
    assert len(re.findall(r"<tr>\s*<td class=\"nowrap\">", html)) == 4
    for sid in (first, second):
        link = f'href="/staff/audit?session_ref={sid}" title="会话 {sid} 的全部记录">…{sid[-8:]}</a>'
        assert link in html
    assert html.count(f'<span class="sub mono">{ADDRESS}</span>') == 3
    assert '—<span class="sub mono">—</span>' in html  # the job's record
    assert "登录会话" in html and "IP 地址" in html and 'id="f-session"' in html

    one = remote.get("/staff/audit", params={"session_ref": second}).text
    assert len(re.findall(r"<tr>\s*<td class=\"nowrap\">", one)) == 2 and "shown=1" in one
    assert f'value="{second}"' in one
    english = remote.get(
        "/staff/audit", params={"session_ref": first}, headers={"Accept-Language": "en"}
    ).text
    assert len(re.findall(r"<tr>\s*<td class=\"nowrap\">", english)) == 1
    assert "Session" in english and "IP address" in english and f"All records of session {first}" in english

    export = remote.get("/staff/audit/export.csv", params={"session_ref": second})
    assert export.status_code == 200
    lines = list(csv.DictReader(io.StringIO(export.content.decode("utf-8").removeprefix("\ufeff"))))
    assert [(r["action"], r["session_ref"], r["ip"]) for r in lines] == [
        ("customer.view", second, ADDRESS), ("customer.search", second, ADDRESS),
    ]
    # The export is recorded under the officer's own session, with its session filter.
    [recorded] = _records(db, action="audit.export")
    [officer_sid] = _sids(db, officer)
    assert (recorded.session_ref, recorded.ip) == (officer_sid, ADDRESS)
    assert recorded.detail == f"rows=2 session={second}"
    assert remote.cookies[COOKIE] not in export.text and remote.cookies[COOKIE] not in html


def test_a_fraud_case_read_records_the_analysts_session(remote, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    other = seed_customer(db, username="lan", display_name="林兰")
    team = rs.analysts(db)
    rs.publish_rule(db, team)
    pay(db, customer_id=who.customer_id, from_account_id=who.accounts[0].id,
        to_account_number=other.accounts[0].number, amount_minor=120_00)
    case_id = rs.held_case(db, who.customer_id, 880_000)
    sign_in(remote, team.maker)
    assert remote.get("/staff/risk/cases").status_code == 200
    assert remote.get(f"/staff/risk/cases/{case_id}").status_code == 200
    [sid] = _sids(db, team.maker)
    records = _records(db, staff_id=team.maker.id)
    assert sorted((r.screen, r.session_ref, r.ip) for r in records) == [
        ("risk.case", sid, ADDRESS), ("risk.queue", sid, ADDRESS),
    ]
