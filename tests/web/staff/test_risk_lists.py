"""Lists through the console: values typed in clear are stored hashed and shown masked, refusals come
back next to their field, a duplicate is a conflict, removal needs a reason, and every change is in the
audit trail with who and why."""

from __future__ import annotations

from atrium.risk import service as risk
from tests.web.staff import risk_support as rs
from tests.web.staff.factories import make_staff, page_token, sign_in

ENTRY = {"list_kind": "block", "subject_kind": "ip", "value": "198.51.100.77", "counterpart": "",
         "expires_days": "7", "reason": "撞库攻击来源"}


def _add(client, **fields: str):  # type: ignore[no-untyped-def]
    token = page_token(client, "/staff/risk/lists")
    data = {"csrf_token": token, **ENTRY, **fields}
    return client.post("/staff/risk/lists", data=data, follow_redirects=False)


def test_an_ip_is_listed_masked_and_removed_with_a_reason(client, db) -> None:  # type: ignore[no-untyped-def]
    team = rs.analysts(db)
    sign_in(client, team.maker)
    r = _add(client)
    assert r.status_code == 303 and r.headers["location"] == "/staff/risk/lists?done=added"
    page = client.get(r.headers["location"]).text
    assert "198.51.*.*" in page and "198.51.100.77" not in page and "撞库攻击来源" in page
    with db.read_session() as s:
        (entry,) = risk.list_entries(s)
    assert entry.display == "198.51.*.*" and entry.expires_at is not None

    token = page_token(client, "/staff/risk/lists")
    r = client.post(f"/staff/risk/lists/{entry.id}/remove", data={"csrf_token": token, "reason": " "},
                    follow_redirects=False)
    assert r.status_code == 422 and f'id="rm-{entry.id}-error"' in r.text
    r = client.post(f"/staff/risk/lists/{entry.id}/remove", data={"csrf_token": token, "reason": "误报"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/staff/risk/lists?removed=1").text
    assert "已移除" in page
    trail = page[page.index('id="list-trail"'):]
    assert trail.count("张分析") == 2 and "误报" in trail and "撞库攻击来源" in trail
    assert client.get("/staff/risk/lists?list_kind=allow").text.count("198.51.*.*") == 2  # the trail only


def test_refusals_come_back_next_to_their_field_and_a_duplicate_is_a_conflict(client, db) -> None:  # type: ignore[no-untyped-def]
    team = rs.analysts(db)
    sign_in(client, team.maker)
    for fields, field in (({"value": " "}, "value"), ({"expires_days": "-3"}, "expires_days"),
                          ({"reason": ""}, "reason"), ({"subject_kind": "pair"}, "counterpart"),
                          ({"list_kind": "grey"}, "list_kind")):
        r = _add(client, **fields)
        assert r.status_code == 422 and f'id="f-{field}-error"' in r.text, (fields, r.status_code)
    assert _add(client).status_code == 303
    r = _add(client, reason="再次添加")
    assert r.status_code == 409 and "该对象已在此名单中" in r.text
    assert 'value="198.51.100.77"' in r.text  # what was typed comes back to be corrected


def test_a_payer_payee_allow_pair(client, db) -> None:  # type: ignore[no-untyped-def]
    team = rs.analysts(db)
    sign_in(client, team.maker)
    r = _add(client, list_kind="allow", subject_kind="pair", value="cus_123",
             counterpart="6222 0212 3456 7890", expires_days="", reason="长期房租收款人")
    assert r.status_code == 303
    with db.read_session() as s:
        (entry,) = risk.list_entries(s, list_kind="allow")
    assert entry.subject_kind == "pair" and entry.expires_at is None and "6222 0212" not in entry.display


def test_compliance_reads_the_lists_but_changes_nothing(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "compliance_officer"))
    page = client.get("/staff/risk/lists")
    assert page.status_code == 200 and 'id="add-entry"' not in page.text
    assert _add(client).status_code == 403
