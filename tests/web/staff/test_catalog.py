"""The catalogue in the console: who may open what, the list and a service's page in both languages,
proposing (a new service, a change, a switch, a window) with errors against their fields, the queue, the
second operator's decision (never the maker's: no button, and a 403 for the POST), and the audited preview."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from atrium.catalog import service as catalog
from atrium.staff import models as staff_models
from atrium.staff.permissions import ROLES, allowed
from tests.catalog.factories import make_customer
from tests.web.staff.factories import csrf_from, make_staff, sign_in

HOME = "/staff/catalog"
NEW = {
    "kind": "create", "base_version": "0", "key": "wealth.pension", "line": "wealth", "name_zh": "养老理财",
    "name_en": "Pension savings", "description_zh": "为退休做准备", "description_en": "Save for retirement",
    "keywords_zh": "养老, 退休", "keywords_en": "pension", "icon": "wallet", "target": "/limits",
    "identity_kinds": ["person"], "permissions": "", "channels": ["app"], "placements": ["grid", "quick"],
    "rank": "20", "audience": json.dumps({"attr": "age", "op": "gte", "value": 60}), "note": "养老季活动",
}


@pytest.fixture()
def client(client, db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        catalog.sync_definitions(s)
    return client


@pytest.fixture()
def operator2(db):  # type: ignore[no-untyped-def]
    return make_staff(db, "operator", username="op.wang", display_name="王复核")


def token(client, path: str = HOME) -> str:  # type: ignore[no-untyped-def]
    return csrf_from(client.get(path).text)


def propose_new(client, **changes) -> str:  # type: ignore[no-untyped-def]
    r = client.post(HOME + "/proposals", data={**NEW, **changes, "csrf_token": token(client, HOME + "/new")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/staff/catalog/proposals/(cprp_\w+)\?sent=1", r.headers["location"])
    assert match, r.headers["location"]
    return match.group(1)


def test_each_role_opens_only_what_its_permissions_allow(client, db) -> None:  # type: ignore[no-untyped-def]
    pages = {HOME: "catalog.view", HOME + "/proposals": "catalog.view",
             HOME + "/services/retail.transfer": "catalog.view", HOME + "/new": "catalog.propose",
             HOME + "/services/retail.transfer/edit": "catalog.propose"}
    for role in ROLES:
        sign_in(client, make_staff(db, role))
        for path, action in pages.items():
            expected = 200 if allowed(role, action) else 403
            assert client.get(path).status_code == expected, (role, path)
    sign_in(client, make_staff(db, "risk_analyst", username="risk-2"))
    assert client.get(HOME).status_code == 403
    assert "/staff/catalog" not in client.get("/staff").text  # no sidebar entry either


def test_the_list_filters_and_speaks_both_languages(as_operator) -> None:  # type: ignore[no-untyped-def]
    zh = as_operator.get(HOME)
    assert "服务目录" in zh.text and "转账" in zh.text
    assert "retail.transfer" in zh.text and "已上线" in zh.text
    en = as_operator.get(HOME, headers={"Accept-Language": "en"}, params={"line": "enterprise"})
    listed = en.text[:en.text.index('id="tab-layouts"')]
    assert "Company overview" in listed and "Transfer" not in listed and "Live" in listed
    tabs = zh.text[zh.text.index('id="tab-layouts"'):]
    assert "company_operator.default" in tabs and "首页 · 转账 · 扫一扫 · 全部服务 · 我的" in tabs
    assert 'href="/staff/catalog/services/enterprise.company"' in tabs
    off = as_operator.get(HOME, params={"status": "off"}).text
    assert 'id="services-heading">共 0 项服务' in off
    assert as_operator.get(HOME, params={"line": "casino"}).status_code == 422


def test_a_service_page_shows_definition_rule_and_history(as_operator) -> None:  # type: ignore[no-untyped-def]
    page = as_operator.get(HOME + "/services/enterprise.company", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "/biz" in page.text and "Company operator" in page.text
    assert "Everyone" in page.text[page.text.index('id="audience-rule"'):]
    assert "Configuration file" in page.text and "builtin:enterprise.toml" in page.text
    assert as_operator.get(HOME + "/services/wealth.nothing").status_code == 404


def test_operator_proposes_operator2_approves_and_both_are_on_record(client, db, operator, operator2) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, operator)
    proposal_id = propose_new(client)
    page = client.get(f"{HOME}/proposals/{proposal_id}?sent=1")
    assert "新服务提议已提交" in page.text and 'id="approve"' not in page.text  # no button for the maker
    assert "这是你的提议" in page.text
    assert '<strong>年龄</strong>\n大于或等于 <code class="mono">60</code>' in page.text
    refused = client.post(f"{HOME}/proposals/{proposal_id}/approve",
                          data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 403 and "不能批准自己的提议" in refused.text
    with db.read_session() as s:
        assert catalog.get_proposal(s, proposal_id).status == "pending"

    sign_in(client, operator2)
    queue = client.get(HOME + "/proposals")
    assert proposal_id in queue.text and "李运营" in queue.text
    page = client.get(f"{HOME}/proposals/{proposal_id}")
    assert 'id="approve"' in page.text
    r = client.post(f"{HOME}/proposals/{proposal_id}/approve", data={"csrf_token": csrf_from(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{HOME}/services/wealth.pension?approved=1"
    service = client.get(r.headers["location"])
    assert "已批准" in service.text and "李运营" in service.text and "王复核" in service.text
    with db.read_session() as s:
        entry = catalog.history(s, "wealth.pension")[0]
        assert (entry.proposed_by, entry.approved_by) == (operator.id, operator2.id)
        decided = catalog.get_proposal(s, proposal_id)
        assert decided.status == "approved" and decided.decided_by == operator2.id


def test_a_rejection_needs_a_reason_and_changes_nothing(client, db, operator, operator2) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, operator)
    page = client.get(HOME + "/services/retail.limits")
    r = client.post(HOME + "/services/retail.limits/switch",
                    data={"enabled": "off", "base_version": "1", "note": "维护",
                          "csrf_token": csrf_from(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and "?sent=cprp_" in r.headers["location"]
    assert "开关提议已提交" in client.get(r.headers["location"]).text
    with db.read_session() as s:
        proposal_id = catalog.list_proposals(s, status="pending")[0].id
    sign_in(client, operator2)
    page = client.get(f"{HOME}/proposals/{proposal_id}")
    empty = client.post(f"{HOME}/proposals/{proposal_id}/reject",
                        data={"reason": "", "csrf_token": csrf_from(page.text)})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text and "请写明驳回原因" in empty.text
    r = client.post(f"{HOME}/proposals/{proposal_id}/reject",
                    data={"reason": "节假日不关闭", "csrf_token": csrf_from(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "节假日不关闭" in client.get(r.headers["location"]).text
    with db.read_session() as s:
        limits = catalog.get_managed(s, "retail.limits")
        assert limits.enabled and limits.version == 1


def test_form_errors_are_shown_against_their_fields(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    t = token(as_operator, HOME + "/new")
    cases = [
        ({"audience": '{"attr": "age", "op": "older", "value": 60}'}, "f-audience", "audience.op"),
        ({"audience": "{not json"}, "f-audience", "JSON"),
        ({"target": "javascript:alert(1)"}, "f-target", "target"),
        ({"key": "loans.pension"}, "f-key", "key"),
        ({"name_en": ""}, "f-name_en", "name.en"),
        ({"rank": "many"}, "f-rank", "rank"),
    ]
    for change, field_id, words in cases:
        r = as_operator.post(HOME + "/proposals", data={**NEW, **change, "csrf_token": t})
        assert r.status_code == 422, change
        error = re.search(rf'id="{field_id}-error">.*?<span>(.*?)</span>', r.text, re.S)
        assert error and words in error.group(1), (change, r.text[:200])
        assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', r.text, re.S), change
    with db.read_session() as s:
        assert catalog.list_proposals(s) == []  # nothing was proposed


def test_a_change_and_a_window_are_proposed_from_the_service_page(client, db, operator) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, operator)
    form = client.get(HOME + "/services/retail.limits/edit")
    assert 'value="支付限额"' in form.text
    proposal_id = propose_new(client, kind="update", base_version="1", key="retail.limits", line="retail",
                              name_zh="限额设置", audience="")
    assert "限额设置" in client.get(f"{HOME}/proposals/{proposal_id}").text
    page = client.get(HOME + "/services/retail.limits")
    bad = client.post(HOME + "/services/retail.limits/schedule",
                      data={"starts_at": "2031-01-02T09:00", "ends_at": "2031-01-01T09:00",
                            "base_version": "1", "csrf_token": csrf_from(page.text)})
    assert bad.status_code == 422 and 'id="schedule-error"' in bad.text
    stale = client.post(HOME + "/services/retail.limits/schedule",
                        data={"starts_at": "2031-01-01T09:00", "base_version": "0",
                              "csrf_token": csrf_from(page.text)})
    assert stale.status_code == 409 and "服务在你打开页面后已被修改" in stale.text
    r = client.post(HOME + "/services/retail.limits/schedule",
                    data={"starts_at": "2031-01-01T09:00", "ends_at": "", "base_version": "1",
                          "csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    with db.read_session() as s:
        pending = catalog.list_proposals(s, status="pending")
    window = next(p for p in pending if p.kind == "schedule").payload
    assert window == {"starts_at": "2031-01-01T09:00:00+08:00", "ends_at": None}


def test_the_preview_counts_and_checks_one_customer_and_is_audited(client, db, operator) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        senior = make_customer(s, age=70, company_role="finance")
        make_customer(s, age=30)
    sign_in(client, operator)
    page = client.get(HOME + "/services/retail.transfer",
                      params={"sample": "1", "customer_id": senior.customer_id, "reason": "核对受众"})
    assert page.status_code == 200
    assert "样本 2 位客户中有 2 位会看到此服务" in page.text
    checks = page.text[page.text.index('id="preview-checks"'):]
    assert "可见" in checks and "身份类型不符" in checks  # the person sees transfer, the company operator not
    missing = client.get(HOME + "/services/retail.transfer", params={"customer_id": "cus_nobody"})
    assert "没有这个客户号" in missing.text
    with db.read_session() as s:
        records = s.scalars(select(staff_models.AuditRecord).where(
            staff_models.AuditRecord.staff_id == operator.id)).all()
    kinds = sorted((r.action, r.customer_id) for r in records)
    assert kinds == [("customer.search", None), ("customer.view", senior.customer_id)]
    assert all(r.reason == "核对受众" for r in records)
