"""The console's messages area: who may open it, templates (edit as versions, placeholders checked,
restore, a concurrent edit refused, a new marketing template sent to consenting customers), notices
(publish, shown to the audience, withdraw), the delivery log (counts only), both languages."""

from __future__ import annotations

import re

import pytest

from atrium.messages import service as messages
from atrium.messages.schemas import PreferencesUpdate
from atrium.messages.tasks import deliver_pending, run_broadcasts
from atrium.staff.permissions import ROLES, allowed
from tests.messages.factories import inbox_of, person
from tests.web.staff.factories import csrf_from, make_staff, sign_in

PAGES = ("/staff/messages", "/staff/messages/notices", "/staff/messages/delivery",
         "/staff/messages/templates/transfer.completed")


@pytest.fixture()
def templates(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        messages.ensure_builtin_templates(s)


WRITES = ("/staff/messages/templates", "/staff/messages/templates/transfer.completed",
          "/staff/messages/templates/transfer.completed/restore",
          "/staff/messages/templates/promo.x/broadcast", "/staff/messages/notices",
          "/staff/messages/notices/ntc_x/withdraw")


def test_only_roles_with_messages_manage_may_open_the_pages(client, db, templates) -> None:  # type: ignore[no-untyped-def]
    for role in ROLES:
        sign_in(client, make_staff(db, role))
        for page in PAGES:
            r = client.get(page)
            assert r.status_code == (200 if allowed(role, "messages.manage") else 403), (role, page)
        token = csrf_from(client.get("/staff").text)  # a valid token: a refusal is the role's
        for path in WRITES:
            r = client.post(path, data={"csrf_token": token}, follow_redirects=False)
            if allowed(role, "messages.manage"):
                assert r.status_code != 403, (role, path)
            else:
                assert r.status_code == 403 and "无权访问" in r.text, (role, path, r.status_code)
    with db.read_session() as s:
        assert messages.list_notices(s) == [] and messages.list_broadcasts(s) == []


def test_the_template_list_and_an_edit_that_adds_a_version(as_operator, operator, db, templates) -> None:  # type: ignore[no-untyped-def]
    html = as_operator.get("/staff/messages").text
    assert "<h1>消息</h1>" in html and 'href="/staff/messages/templates/security.changed"' in html
    assert 'aria-current="true">消息模板' in html and "内置" in html
    page = as_operator.get("/staff/messages/templates/transfer.completed").text
    assert "本模板可用的占位符：{account}, {account_id}, {amount}, {counterparty}" in page
    assert 'name="base_version" value="1"' in page
    form = {
        "csrf_token": csrf_from(page), "base_version": "1", "channels": ["push"],
        "title_zh": "转账完成", "body_zh": "您向{counterparty}转出{amount}。",
        "title_en": "Transfer done", "body_en": "You paid {counterparty} {amount}.",
        "link": "/accounts/{account_id}", "note": "shorter",
    }
    r = as_operator.post("/staff/messages/templates/transfer.completed", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=2")
    after = as_operator.get(r.headers["location"]).text
    assert "已保存：现使用第 2 版。" in after and "shorter" in after and operator.id in after
    with db.read_session() as s:
        versions = messages.template_versions(s, "transfer.completed")
    assert [v.version for v in versions] == [2, 1] and versions[0].created_by == operator.id
    assert versions[1].title_zh == "转账成功"  # the old words stay as they were


def test_edits_are_checked(as_operator, db, templates) -> None:  # type: ignore[no-untyped-def]
    page = as_operator.get("/staff/messages/templates/transfer.completed").text
    base = {
        "csrf_token": csrf_from(page), "base_version": "1", "title_zh": "转账", "body_zh": "金额{amount}",
        "title_en": "Transfer", "body_en": "Amount {amount}", "link": "",
    }
    unknown = as_operator.post("/staff/messages/templates/transfer.completed",
                               data=base | {"body_zh": "您的密码是{password}"})
    assert unknown.status_code == 422 and 'aria-invalid="true"' in unknown.text
    assert "请检查内容：只能使用列出的占位符" in unknown.text
    code = as_operator.post("/staff/messages/templates/transfer.completed",
                            data=base | {"body_en": "{amount.__class__}"})
    assert code.status_code == 422
    away = as_operator.post("/staff/messages/templates/transfer.completed",
                            data=base | {"link": "https://evil.example/login"})
    assert away.status_code == 422 and "链接须为以 / 开头的应用内路径。" in away.text
    with db.read_session() as s:
        assert messages.get_template(s, "transfer.completed").current_version == 1


def test_a_concurrent_edit_is_refused_and_restore_adds_a_version(as_operator, db, templates) -> None:  # type: ignore[no-untyped-def]
    page = as_operator.get("/staff/messages/templates/qr.paid").text
    token = csrf_from(page)
    form = {"csrf_token": token, "base_version": "1", "channels": ["push"], "title_zh": "付款成功",
            "body_zh": "付款{amount}", "title_en": "Paid", "body_en": "Paid {amount}", "link": ""}
    assert as_operator.post("/staff/messages/templates/qr.paid", data=form).status_code == 200
    stale = as_operator.post("/staff/messages/templates/qr.paid", data=form | {"body_zh": "又改了{amount}"})
    assert stale.status_code == 409 and "您编辑期间有人保存了此模板" in stale.text
    r = as_operator.post("/staff/messages/templates/qr.paid/restore",
                         data={"csrf_token": token, "version": "1", "base_version": "2"},
                         follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("saved=3")
    with db.read_session() as s:
        t = messages.get_template(s, "qr.paid")
    assert t.current_version == 3 and t.current.title_zh == "扫码付款成功"
    assert t.current.note == "restored version 1"


def test_a_marketing_template_reaches_only_consenting_customers(as_operator, db, templates) -> None:  # type: ignore[no-untyped-def]
    yes, no = person(db, "yes", balance_minor=0), person(db, "no", balance_minor=0)
    with db.unit_of_work() as s:
        messages.update_preferences(s, yes.id, PreferencesUpdate(marketing_opt_in=True))
    page = as_operator.get("/staff/messages").text
    r = as_operator.post("/staff/messages/templates", data={
        "csrf_token": csrf_from(page), "key": "promo.spring", "category": "marketing", "channels": ["push"],
        "title_zh": "春季优惠", "body_zh": "理财产品限时优惠。", "title_en": "Spring offer",
        "body_en": "Savings offers for a limited time.", "link": "/",
    }, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/messages/templates/promo.spring?saved=1"
    page = as_operator.get(r.headers["location"]).text
    assert "发送给客户" in page
    key = re.search(r'name="request_key" value="([^"]+)"', page)
    assert key
    data = {"csrf_token": csrf_from(page), "audience": "all", "request_key": key.group(1)}
    for _ in range(2):  # a double submit starts one broadcast
        sent = as_operator.post("/staff/messages/templates/promo.spring/broadcast", data=data,
                                follow_redirects=False)
        assert sent.status_code == 303
    with db.read_session() as s:
        assert len(messages.list_broadcasts(s)) == 1
    assert not inbox_of(db, yes.id), "a request never broadcasts: the job does"
    assert run_broadcasts(db) == 1
    assert [m.title for m in inbox_of(db, yes.id)] == ["春季优惠"]
    assert inbox_of(db, no.id) == []
    log = as_operator.get("/staff/messages/delivery").text
    assert "promo.spring v1" in log and "已发送" in log


def test_notices_publish_show_and_withdraw(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    reader = person(db, "reader", balance_minor=0, locale="en")
    page = as_operator.get("/staff/messages/notices").text
    assert 'type="datetime-local"' in page and "北京时间" in page
    form = {
        "csrf_token": csrf_from(page), "title_zh": "系统维护", "body_zh": "周六凌晨系统维护。",
        "title_en": "Maintenance", "body_en": "Maintenance early on Saturday.", "link": "",
        "audience": "all", "to_inbox": "on",
        "starts_at": "2000-01-01T00:00", "ends_at": "2099-01-01T00:00",
        "request_key": re.search(r'name="request_key" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
    }
    r = as_operator.post("/staff/messages/notices", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert as_operator.post("/staff/messages/notices", data=form, follow_redirects=False).status_code == 303
    with db.read_session() as s:
        shown = messages.current_notices(s, reader.id, locale="en", identity_kind="person", limit=3)
        assert len(messages.list_notices(s)) == 1  # the double submit published once
    assert [n.title for n in shown] == ["Maintenance"] and shown[0].message_id is None
    run_broadcasts(db)
    assert [m.title for m in inbox_of(db, reader.id)] == ["Maintenance"]
    listed = as_operator.get("/staff/messages/notices").text
    assert "展示中" in listed and "已送达 1 位客户" in listed
    notice_id = shown[0].id
    r = as_operator.post(f"/staff/messages/notices/{notice_id}/withdraw",
                         data={"csrf_token": csrf_from(listed)}, follow_redirects=False)
    assert r.status_code == 303
    with db.read_session() as s:
        assert messages.current_notices(s, reader.id, locale="en", identity_kind="person", limit=3) == []
        assert messages.unread_count(s, reader.id) == 0  # the inbox copy is gone too
    assert "已撤回" in as_operator.get("/staff/messages/notices").text


def test_a_notice_with_a_bad_window_is_refused(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    page = as_operator.get("/staff/messages/notices").text
    form = {"csrf_token": csrf_from(page), "title_zh": "a", "body_zh": "b", "title_en": "c", "body_en": "d",
            "audience": "all", "starts_at": "2030-01-02T00:00", "ends_at": "2030-01-01T00:00"}
    r = as_operator.post("/staff/messages/notices", data=form)
    assert r.status_code == 422 and 'id="n-ends_at-error"' in r.text
    assert as_operator.post("/staff/messages/notices", data=form | {"starts_at": "soon"}).status_code == 422
    with db.read_session() as s:
        assert messages.list_notices(s) == []


def test_the_delivery_log_shows_counts_and_no_customer_data(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    payer = person(db, "payer")
    from atrium.identity import audit

    with db.unit_of_work() as s:
        audit.record(s, payer.id, "password.changed")
    from atrium.events.relay import relay_once

    relay_once(db)
    deliver_pending(db)
    with db.read_session() as s:
        body = messages.list_messages(s, payer.id).items[0].body
    html = as_operator.get("/staff/messages/delivery").text
    assert "各渠道通知数量" in html and "仅显示数量" in html
    sms_row = re.search(r"<th scope=\"row\">短信</th>(.*?)</tr>", html, flags=re.DOTALL)
    assert sms_row and '<td class="num">1</td>' in sms_row.group(1)
    assert body not in html and payer.phone not in html and payer.phone[-4:] not in html  # type: ignore[operator]
    assert payer.id not in html and payer.username not in html
    as_operator.cookies.set("atrium_locale", "en")
    english = as_operator.get("/staff/messages/delivery?days=7").text
    assert "Notifications by channel" in english and "Counts only" in english
