"""The console's sign-in lock page: the lock state, and unlocking with a required reason — recorded in the
staff access audit in the same transaction as the unlock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atrium.identity import service as identity
from atrium.identity.protection import lockout
from atrium.kit import clock
from atrium.kit.clock import FrozenClock
from atrium.staff import service as staff
from tests.web.staff.factories import make_staff, page_token, sign_in

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture()
def locked(db) -> str:  # type: ignore[no-untyped-def]
    """A customer locked permanently: three temporary locks within 24 hours (back-dated by a frozen clock)."""
    with db.unit_of_work() as s:
        customer_id = identity.create_customer(
            s, username="mei.wang", password="pw pw pw pw", display_name="王美"
        ).id
    previous = clock.use(FrozenClock(START))
    try:
        for hours in (0, 1, 2):
            clock.use(FrozenClock(START + timedelta(hours=hours)))
            for _ in range(5):
                db.run(lambda s: lockout.record_failure(s, customer_id))
    finally:
        clock.use(previous)
    return customer_id


def _state(db, customer_id: str) -> str:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return lockout.status(s, customer_id).state


def _audit(db, customer_id: str, action: str):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff.list_access(s, customer_id=customer_id, action=action).items


def test_the_lock_page_shows_the_lock_and_is_audited(as_operator, db, locked):
    r = as_operator.get(f"/staff/customers/{locked}/lock")
    assert r.status_code == 200
    html = r.text
    assert "永久锁定" in html and "直至工作人员解锁" in html and "王*" in html and "me***" in html
    assert "mei.wang" not in html and "王美" not in html  # masked
    assert f'action="/staff/customers/{locked}/unlock"' in html
    assert 'name="reason"' in html and "required" in html
    views = _audit(db, locked, "customer.view")
    assert len(views) == 1 and views[0].screen == "customer.lock"


def test_unlock_with_a_reason_is_recorded(as_operator, operator, db, locked):
    token = page_token(as_operator, f"/staff/customers/{locked}/lock")
    r = as_operator.post(
        f"/staff/customers/{locked}/unlock",
        data={"reason": "  Customer called;  verified by call-back ", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/staff/customers/{locked}/lock?done=1"
    assert _state(db, locked) == "none"
    (record,) = _audit(db, locked, "customer.unlock")
    assert record.staff_id == operator.id and record.staff_role == "operator"
    assert record.reason == "Customer called; verified by call-back" and record.detail == "lock=permanent"
    page = as_operator.get(r.headers["location"]).text
    assert "已解除锁定" in page and "未锁定" in page and 'name="reason"' not in page


def test_a_blank_reason_is_refused_and_nothing_changes(as_operator, db, locked):
    token = page_token(as_operator, f"/staff/customers/{locked}/lock")
    r = as_operator.post(f"/staff/customers/{locked}/unlock", data={"reason": "   ", "csrf_token": token})
    assert r.status_code == 422
    assert "请填写解锁原因" in r.text and 'aria-invalid="true"' in r.text and 'role="alert"' in r.text
    assert _state(db, locked) == "permanent"
    assert _audit(db, locked, "customer.unlock") == []


def test_an_unlocked_customer_is_not_unlocked_twice(as_operator, db, locked):
    token = page_token(as_operator, f"/staff/customers/{locked}/lock")
    data = {"reason": "verified in branch", "csrf_token": token}
    first = as_operator.post(f"/staff/customers/{locked}/unlock", data=data, follow_redirects=False)
    assert first.status_code == 303
    again = as_operator.post(f"/staff/customers/{locked}/unlock", data=data)
    assert again.status_code == 409 and "该客户当前没有被锁定" in again.text
    assert len(_audit(db, locked, "customer.unlock")) == 1


def test_unlock_needs_csrf(as_operator, db, locked):
    as_operator.get(f"/staff/customers/{locked}/lock")
    r = as_operator.post(f"/staff/customers/{locked}/unlock", data={"reason": "x"})
    assert r.status_code == 403
    assert _state(db, locked) == "permanent"


def test_roles_without_the_permission(client, db, locked):
    analyst = make_staff(db, "risk_analyst")  # may view customers, may not unlock them
    sign_in(client, analyst)
    page = client.get(f"/staff/customers/{locked}/lock")
    assert page.status_code == 200 and 'name="reason"' not in page.text
    assert "您的角色不能解除锁定" in page.text
    token = page_token(client, f"/staff/customers/{locked}/lock")
    r = client.post(f"/staff/customers/{locked}/unlock", data={"reason": "because", "csrf_token": token})
    assert r.status_code == 403
    assert _state(db, locked) == "permanent"
    compliance = make_staff(db, "compliance_officer")  # may not open customers at all
    sign_in(client, compliance)
    assert client.get(f"/staff/customers/{locked}/lock").status_code == 403


def test_unknown_customers_and_visitors(as_operator, client, db):
    assert as_operator.get("/staff/customers/cus_nobody/lock").status_code == 404
    as_operator.cookies.clear()
    r = as_operator.get("/staff/customers/cus_nobody/lock", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")


def test_english(as_operator, db, locked):
    as_operator.cookies.set("atrium_locale", "en")
    html = as_operator.get(f"/staff/customers/{locked}/lock").text
    assert "Locked permanently" in html and "Reason for unlocking (required)" in html
    assert "Temporary locks in 24 hours" in html


@pytest.mark.browser
def test_unlock_in_the_browser(desk_page, db, locked):  # type: ignore[no-untyped-def]
    import re

    from tests.web.browser_support import SCREENSHOTS as shots
    from tests.web.staff.test_browser import _axe

    shots.mkdir(parents=True, exist_ok=True)
    page = desk_page
    make_staff(db, "operator", username="op.li", display_name="李运营")
    page.goto(f"/staff/customers/{locked}/lock")
    page.wait_for_url("**/staff/login**")
    page.get_by_label("员工用户名").fill("op.li")
    page.get_by_label("密码", exact=True).fill("staff password 1")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/lock$"))
    assert _axe(page) == []
    page.screenshot(path=str(shots / "staff-lock-permanent.png"), full_page=True)
    page.get_by_role("button", name="解除锁定").click()  # no reason (novalidate: the server answers)
    page.wait_for_selector("#unlock-error")
    assert _axe(page) == []
    page.screenshot(path=str(shots / "staff-lock-no-reason.png"), full_page=True)
    page.get_by_label("解锁原因（必填）").fill("客户来电，已通过回拨核实身份")
    page.get_by_role("button", name="解除锁定").click()
    page.wait_for_url(re.compile(r"/lock\?done=1$"))
    page.screenshot(path=str(shots / "staff-lock-unlocked.png"), full_page=True)
    assert _state(db, locked) == "none"
