"""Rules through the console: the list by state, the expression editor's refusals next to the field with
the position, backtests of a draft and of a proposal, and maker-checker — the maker sees no approve button
and is refused the POST (403); approval needs a backtest and keeps its figures; reject needs a reason; a
switch of mode is a new proposal; retiring stops a rule at once."""

from __future__ import annotations

import pytest

from atrium.risk import service as risk
from tests.web.mobile.factories import seed_customer
from tests.web.staff import risk_support as rs
from tests.web.staff.factories import make_staff, page_token, sign_in

WINDOW = {"since": "2020-01-01T00:00", "until": "2030-01-01T00:00"}
DRAFT = {"key": "night_big", "expression": "amount > 3 * customer_amount_mean_30d and is_night",
         "action": "review", "weight": "0.2", "mode": "shadow", "reason": "", "note": "夜间大额"}


@pytest.fixture()
def team(db):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    analysts = rs.analysts(db)
    rs.labelled_history(db, who.customer_id, rows=12)  # something to backtest against
    return analysts


def _post(client, path: str, data: dict[str, str], page: str = "/staff/risk/rules"):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": page_token(client, page), **data}, follow_redirects=False)


def test_a_refused_expression_comes_back_next_to_its_field_with_the_position(client, db, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.maker)
    r = _post(client, "/staff/risk/rules", {**DRAFT, "expression": "amount > 3 * (customer_amount_mean_30d"})
    assert r.status_code == 422
    assert 'id="f-expression-error"' in r.text and 'aria-invalid="true"' in r.text
    assert "<mark>" in r.text and 'href="#f-expression"' in r.text  # the summary links to the field
    r = _post(client, "/staff/risk/rules", {**DRAFT, "expression": "__import__('os')"})
    assert r.status_code == 422 and 'id="f-expression-error"' in r.text
    r = _post(client, "/staff/risk/rules", {**DRAFT, "key": "Bad Key"})
    assert r.status_code == 422 and 'id="f-key-error"' in r.text
    r = _post(client, "/staff/risk/rules", {**DRAFT, "weight": "lots"})
    assert r.status_code == 422 and 'id="f-weight-error"' in r.text
    with db.read_session() as s:
        assert risk.list_rules(s) == []  # nothing stored


def test_a_draft_is_backtested_without_being_stored(client, db, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.maker)
    r = _post(client, "/staff/risk/rules/backtest", {**DRAFT, **WINDOW})
    assert r.status_code == 200 and 'id="backtest-result"' in r.text
    for metric in ("bt-fired", "bt-caught", "bt-precision", "bt-recall"):
        assert f'id="{metric}"' in r.text
    assert "夜间大额" in r.text  # the draft comes back as typed
    backwards = {"since": WINDOW["until"], "until": WINDOW["since"]}
    r = _post(client, "/staff/risk/rules/backtest", {**DRAFT, **backwards})
    assert r.status_code == 422 and 'id="f-until-error"' in r.text
    with db.read_session() as s:
        assert risk.list_rules(s) == []


def test_maker_checker_with_a_backtest_before_approval(client, db, team) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, team.maker)
    r = _post(client, "/staff/risk/rules", DRAFT)
    assert r.status_code == 303
    rule_url = r.headers["location"].split("?")[0]
    page = client.get(rule_url + "?sent=1").text
    assert 'id="approve"' not in page and "这是您的提议" in page
    rule_id = rule_url.rsplit("/", 1)[1]
    r = _post(client, f"{rule_url}/approve", WINDOW)
    assert r.status_code == 403 and "须由另一人审批" in r.text

    sign_in(client, team.checker)
    page = client.get(rule_url).text
    assert 'id="approve-needs-backtest"' in page and 'id="approve"' not in page
    page = client.get(rule_url, params=WINDOW).text
    assert 'id="backtest-result"' in page and 'id="approve"' in page
    r = _post(client, f"{rule_url}/approve", {})  # no window: no approval
    assert r.status_code == 422
    with db.read_session() as s:
        assert risk.get_rule(s, rule_id).status == "proposed"
    r = _post(client, f"{rule_url}/approve", {**WINDOW, "note": "回测结果可接受"})
    assert r.status_code == 303
    with db.read_session() as s:
        rule = risk.get_rule(s, rule_id)
    assert rule.status == "published" and rule.approver == team.checker.id
    assert rule.decision_note.startswith("backtest ") and "precision" in rule.decision_note
    assert rule.decision_note.endswith("回测结果可接受")
    listing = client.get("/staff/risk/rules").text
    assert 'id="rules-shadow"' in listing and "张分析" in listing and "李复核" in listing


def test_reject_needs_a_reason(client, db, team) -> None:  # type: ignore[no-untyped-def]
    rule_id = rs.propose(db, team.maker)
    sign_in(client, team.checker)
    url = f"/staff/risk/rules/{rule_id}"
    r = _post(client, f"{url}/reject", {"reason": ""})
    assert r.status_code == 422 and 'id="f-reason-error"' in r.text
    assert _post(client, f"{url}/reject", {"reason": "阈值过低，误报太多"}).status_code == 303
    with db.read_session() as s:
        rule = risk.get_rule(s, rule_id)
    assert rule.status == "rejected" and rule.decision_note == "阈值过低，误报太多"
    assert _post(client, f"{url}/reject", {"reason": "again"}).status_code == 409


def test_going_live_is_a_new_proposal_and_retiring_stops_a_rule_at_once(client, db, team) -> None:  # type: ignore[no-untyped-def]
    rule_id = rs.publish_rule(db, team, mode="shadow")
    sign_in(client, team.maker)
    url = f"/staff/risk/rules/{rule_id}"
    r = _post(client, f"{url}/mode", {"mode": "live", "note": "影子期表现良好"})
    assert r.status_code == 303
    with db.read_session() as s:
        versions = risk.rule_versions(s, "big_transfer_review")
    assert [(v.version, v.status, v.mode) for v in versions] == [
        (2, "proposed", "live"), (1, "published", "shadow")]
    r = _post(client, f"{url}/retire", {"reason": ""})
    assert r.status_code == 422 and 'id="f-retire-error"' in r.text
    assert _post(client, f"{url}/retire", {"reason": "误报过多，立即停用"}).status_code == 303
    with db.read_session() as s:
        assert risk.get_rule(s, rule_id).status == "retired"


def test_compliance_checks_rules_but_proposes_none(client, db, team) -> None:  # type: ignore[no-untyped-def]
    rule_id = rs.propose(db, team.maker)
    officer = make_staff(db, "compliance_officer")
    sign_in(client, officer)
    assert client.get("/staff/risk/rules").status_code == 200
    assert client.get("/staff/risk/rules/new").status_code == 403
    page = client.get(f"/staff/risk/rules/{rule_id}", params=WINDOW).text
    assert 'id="approve"' in page and "提议修改" not in page
    assert _post(client, f"/staff/risk/rules/{rule_id}/approve", WINDOW).status_code == 303
    assert _post(client, f"/staff/risk/rules/{rule_id}/retire", {"reason": "x"}).status_code == 403
