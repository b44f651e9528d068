"""/dev/sms also lists the push notifications the development outbox recorded (never in production)."""

from __future__ import annotations

from atrium.config import get_settings
from atrium.notify import service as notify


def test_the_outbox_page_lists_push_notifications(client, db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        notify.send_push(s, customer_id="cus_1", title="账户安全提醒", body="您的账户修改了登录密码。",
                         url="/messages/msg_1", tag="msg_1", category="messages.security")
    html = client.get("/dev/sms").text
    assert '<h2 id="push-head" class="section-title">最近的推送通知</h2>' in html
    assert "账户安全提醒" in html and "您的账户修改了登录密码。" in html and "打开 /messages/msg_1" in html
    assert "仅记录（无需设备）" in html
    # Filtering by phone number is about texts: pushes are not addressed to a number.
    assert "最近的推送通知" not in client.get("/dev/sms", params={"phone": "13812345678"}).text
    client.cookies.set("atrium_locale", "en")
    assert "Latest push notifications" in client.get("/dev/sms").text


def test_no_push_notifications_yet(client, db) -> None:  # type: ignore[no-untyped-def]
    assert "还没有推送通知。" in client.get("/dev/sms").text


def test_not_in_production(client, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(get_settings(), "env", "production")
    assert client.get("/dev/sms").status_code == 404
