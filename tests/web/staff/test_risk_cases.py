"""The case queue and a case through the console's HTTP pages: filters, oldest first, masked customers,
every read recorded like the customer 360 (the open-count poll reads nothing of a customer and records
nothing), the analyst's actions with their required note, the second analyst's conflict, and lists from a
case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from atrium.events.models import OutboxEvent
from atrium.risk import service as risk
from atrium.staff import service as staff_service
from tests.web.mobile.factories import seed_customer
from tests.web.staff import risk_support as rs
from tests.web.staff.factories import make_staff, page_token, pay, sign_in


@pytest.fixture()
def world(db):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    other = seed_customer(db, username="lan", display_name="林兰")
    team = rs.analysts(db)
    rs.publish_rule(db, team)
    pay(db, customer_id=who.customer_id, from_account_id=who.accounts[0].id,
        to_account_number=other.accounts[0].number, amount_minor=120_00)
    first = rs.held_case(db, who.customer_id, 880_000)
    second = rs.held_case(db, who.customer_id, 1_250_000, device="device-new-01")
    return who, team, first, second


def _records(db, **filters):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, **filters).items


def _events(db) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return list(s.scalars(select(OutboxEvent.type).order_by(OutboxEvent.seq)))


def _resolve(client, case_id: str, action: str, note: str = "客户本人确认"):  # type: ignore[no-untyped-def]
    token = page_token(client, f"/staff/risk/cases/{case_id}")
    return client.post(f"/staff/risk/cases/{case_id}/resolve",
                       data={"csrf_token": token, "action": action, "note": note}, follow_redirects=False)


def test_the_queue_lists_open_cases_oldest_first_masked_and_records_the_read(client, db, world) -> None:  # type: ignore[no-untyped-def]
    who, team, first, second = world
    sign_in(client, team.maker)
    r = client.get("/staff/risk/cases")
    assert r.status_code == 200
    assert r.text.index(f"/staff/risk/cases/{first}") < r.text.index(f"/staff/risk/cases/{second}")
    assert "王**" in r.text and "王美丽" not in r.text
    assert "¥8,800.00" in r.text and "¥12,500.00" in r.text
    assert 'id="open-count"' in r.text and re.search(r'id="open-count"[^>]*>2<', r.text)
    (record,) = _records(db, staff_id=team.maker.id)
    assert (record.action, record.screen, record.customer_id) == ("customer.search", "risk.queue", None)
    assert record.detail.startswith("shown=2 status=open")


def test_filters_refresh_the_table_in_place_and_the_count_poll_records_nothing(client, db, world) -> None:  # type: ignore[no-untyped-def]
    _, team, first, _ = world
    sign_in(client, team.maker)
    r = client.get("/staff/risk/cases?status=&outcome=deny", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text
    assert "没有符合筛选条件的案件" in r.text and 'hx-swap-oob' in r.text
    assert _records(db, staff_id=team.maker.id) == []  # nothing shown, nothing recorded
    r = client.get("/staff/risk/cases?status=&outcome=review&channel=transfer",
                   headers={"HX-Request": "true"})
    assert f"/staff/risk/cases/{first}" in r.text
    r = client.get("/staff/risk/cases/counts", headers={"HX-Request": "true"})
    assert r.status_code == 200 and ">2<" in r.text
    assert len(_records(db, staff_id=team.maker.id)) == 1
    assert client.get("/staff/risk/cases?status=bogus").status_code == 422


def test_the_case_shows_its_evidence_masked_and_records_a_customer_view(client, db, world) -> None:  # type: ignore[no-untyped-def]
    who, team, first, _ = world
    sign_in(client, team.maker)
    r = client.get(f"/staff/risk/cases/{first}")
    assert r.status_code == 200
    html = r.text
    for absent in ("203.0.113.45", "6222021234567890123", "device-7f3a9c", "王美丽"):
        assert absent not in html, absent
    for shown in ("203.0.*.*", "…0123", "…3a9c", "王**", "¥8,800.00", "big_transfer_review"):
        assert shown in html, shown
    # The features the fired rule reads are marked; the customer's transfer is in their history.
    assert re.search(r'<tr class="row-fired">\s*<th scope="row" class="mono">amount', html)
    assert 'id="recent-transfers"' in html and "¥120.00" in html
    (record,) = _records(db, customer_id=who.customer_id)
    assert (record.action, record.screen, record.detail) == ("customer.view", "risk.case", f"case={first}")
    assert record.reason == "fraud case review"


def test_an_unknown_case_is_a_404_page_and_records_nothing(client, db, world) -> None:  # type: ignore[no-untyped-def]
    _, team, _, _ = world
    sign_in(client, team.maker)
    r = client.get("/staff/risk/cases/rcas_missing")
    assert r.status_code == 404 and "找不到案件" in r.text
    assert _records(db, staff_id=team.maker.id) == []


def test_release_needs_a_note_then_releases_the_held_payment_once(client, db, world) -> None:  # type: ignore[no-untyped-def]
    _, team, first, _ = world
    sign_in(client, team.maker)
    r = _resolve(client, first, "release", note="   ")
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text and 'id="f-note-error"' in r.text
    assert "RiskReviewReleased" not in _events(db)
    r = _resolve(client, first, "release", note="客户来电确认，本人购房定金")
    assert r.status_code == 303 and r.headers["location"].endswith("?done=release")
    page = client.get(r.headers["location"]).text
    assert "已放行" in page and "客户来电确认，本人购房定金" in page
    assert _events(db).count("RiskReviewReleased") == 1
    with db.read_session() as s:
        assert risk.get_case(s, first).case.status == "released"


def test_a_second_analyst_gets_the_conflict_not_a_second_action(client, db, world) -> None:  # type: ignore[no-untyped-def]
    _, team, _, second = world
    sign_in(client, team.maker)
    assert _resolve(client, second, "confirm", note="客户否认交易").status_code == 303
    sign_in(client, team.checker)
    r = _resolve(client, second, "release", note="核实后放行")
    assert r.status_code == 409
    assert "其他分析员已先处理此案件" in r.text and "张分析" in r.text
    kinds = _events(db)
    assert kinds.count("RiskReviewRejected") == 1 and "RiskReviewReleased" not in kinds
    assert 'id="release"' not in r.text  # the resolved case offers no decision any more


def test_a_held_case_cannot_be_closed_and_confirming_fraud_labels_it(client, db, world) -> None:  # type: ignore[no-untyped-def]
    _, team, first, _ = world
    sign_in(client, team.maker)
    r = _resolve(client, first, "close")
    assert r.status_code == 422 and "此案件有暂扣资金" in r.text
    assert _resolve(client, first, "confirm").status_code == 303
    with db.read_session() as s:
        detail = risk.get_case(s, first)
    assert detail.case.status == "confirmed" and detail.decision.label is True
    assert "FraudConfirmed" in _events(db)


def test_the_case_puts_its_device_on_the_block_list_and_the_next_transfer_meets_it(client, db, world) -> None:  # type: ignore[no-untyped-def]
    who, team, first, _ = world
    sign_in(client, team.maker)
    token = page_token(client, f"/staff/risk/cases/{first}")
    data = {"csrf_token": token, "subject_kind": "device", "list_kind": "block", "expires_days": "30"}
    url = f"/staff/risk/cases/{first}/list"
    r = client.post(url, data={**data, "list_note": ""}, follow_redirects=False)
    assert r.status_code == 422 and 'id="f-list_note-error"' in r.text
    r = client.post(url, data={**data, "expires_days": "x", "list_note": "设备"}, follow_redirects=False)
    assert r.status_code == 422 and 'id="f-expires_days-error"' in r.text
    r = client.post(url, data={**data, "list_note": "欺诈设备"}, follow_redirects=False)
    assert r.status_code == 303
    again = client.post(url, data={**data, "list_note": "再来一次"}, follow_redirects=False)
    assert again.status_code == 409 and "该对象已在此名单中" in again.text
    decision, _ = rs.screen_transfer(db, who.customer_id, 10_00)
    with db.read_session() as s:
        assert risk.get_decision(s, decision).outcome == "deny"
    lists = client.get("/staff/risk/lists").text
    assert "…3a9c" in lists and "device-7f3a9c" not in lists


def test_compliance_and_operators_may_not_open_cases(client, db, world) -> None:  # type: ignore[no-untyped-def]
    _, _, first, _ = world
    for role in ("compliance_officer", "operator", "account_manager"):
        sign_in(client, make_staff(db, role))
        for path in ("/staff/risk/cases", f"/staff/risk/cases/{first}"):
            r = client.get(path)
            assert r.status_code == 403 and "王**" not in r.text, (role, path)
