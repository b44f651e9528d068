"""/messages: the inbox (chips, unread in words, mark all read with and without htmx, more with htmx),
a message (opening marks it read, its link, delete), settings (consent, channels, locked security), per
owner, both languages."""

from __future__ import annotations

import re

from atrium.identity import service as identity
from atrium.messages import service as messages
from atrium.messages.domain import Money
from tests.web.mobile.factories import Seeded, csrf_from, page_token


def _send(db, customer_id: str, n: int = 1, key: str = "transfer.received", prefix: str = "evt") -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    with db.unit_of_work() as s:
        for i in range(n):
            m = messages.send_templated(
                s, customer_id=customer_id, template_key=key, dedup_key=f"{prefix}-{i}",
                values={"amount": Money(100 * (i + 1), "CNY"), "account": "1234", "account_id": "acc_x"},
            )
            assert m is not None
            ids.append(m.id)
    return ids


def _security(db, customer_id: str) -> str:  # type: ignore[no-untyped-def]
    from atrium.kit import clock
    from atrium.messages.domain import Label, Moment

    with db.unit_of_work() as s:
        m = messages.send_templated(
            s, customer_id=customer_id, template_key="security.changed", dedup_key="sec-1",
            values={"change": Label("change:password.changed"), "when": Moment(clock.now())},
        )
    assert m is not None
    return m.id


def test_the_inbox_lists_messages_with_unread_in_words(signed_in, customer: Seeded, db) -> None:
    ids = _send(db, customer.customer_id, 2)
    r = signed_in.get("/messages")
    assert r.status_code == 200
    html = r.text
    assert "<title>消息 · " in html and "<h1>消息</h1>" in html
    assert html.count('<span class="scope">未读</span>') == 2 and "2 条未读" in html
    assert 'aria-labelledby="inbox-head"' in html and '<ul class="list entries" id="message-list"' in html
    assert all(f'href="/messages/{i}"' in html for i in ids)
    assert "您尾号1234的账户收到¥2.00。" in html  # rendered in the customer's language at send time
    assert html.index(ids[1]) < html.index(ids[0])  # newest first
    # The chips: links, the chosen one marked for screen readers.
    assert '<nav class="tabs-inline" aria-label="按类别查看消息">' in html
    assert re.search(r'href="/messages"\s+aria-current="page"', html)
    assert 'action="/messages/read-all"' in html


def test_category_chips_filter(signed_in, customer: Seeded, db) -> None:
    _send(db, customer.customer_id, 1)
    _security(db, customer.customer_id)
    html = signed_in.get("/messages", params={"category": "security"}).text
    assert "账户安全提醒" in html and "收到转账" not in html
    assert re.search(r'href="/messages\?category=security"\s+aria-current="page"', html)
    empty = signed_in.get("/messages", params={"category": "marketing"}).text
    assert "没有优惠信息。" in empty
    # An unknown category is all of them, not an error.
    assert signed_in.get("/messages", params={"category": "nope"}).status_code == 200


def test_opening_a_message_marks_it_read_and_shows_its_link(signed_in, customer: Seeded, db) -> None:
    (mid,) = _send(db, customer.customer_id, 1)
    r = signed_in.get(f"/messages/{mid}")
    assert r.status_code == 200
    assert '<h2 id="message-title" class="section-title">收到转账</h2>' in r.text
    assert 'href="/accounts/acc_x"' in r.text and ">查看" in r.text
    with db.read_session() as s:
        assert messages.get_message(s, customer.customer_id, mid).read_at is not None
        assert messages.unread_count(s, customer.customer_id) == 0
    assert '<span class="scope">未读</span>' not in signed_in.get("/messages").text


def test_mark_all_read_without_and_with_htmx(signed_in, customer: Seeded, db) -> None:
    _send(db, customer.customer_id, 3)
    token = page_token(signed_in, "/messages")
    r = signed_in.post("/messages/read-all", data={"csrf_token": token, "category": ""},
                       follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/messages?done=read"
    assert "所有消息已标为已读。" in signed_in.get(r.headers["location"]).text
    _send(db, customer.customer_id, 2, prefix="more")
    r = signed_in.post("/messages/read-all", data={"category": "transaction"},
                       headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200
    assert '<section class="card" id="inbox"' in r.text and "<html" not in r.text
    assert '<div id="live" hx-swap-oob="innerHTML">已将 2 条消息标为已读</div>' in r.text
    with db.read_session() as s:
        assert messages.unread_count(s, customer.customer_id) == 0


def test_mark_all_read_needs_csrf(signed_in, customer: Seeded, db) -> None:
    _send(db, customer.customer_id, 1)
    assert signed_in.post("/messages/read-all", data={}).status_code == 403
    with db.read_session() as s:
        assert messages.unread_count(s, customer.customer_id) == 1


def test_more_messages_with_htmx(signed_in, customer: Seeded, db) -> None:
    _send(db, customer.customer_id, 23)
    first = signed_in.get("/messages").text
    assert first.count('class="entry"') == 20
    more = re.search(r'hx-get="(/messages/more\?[^"]+)"', first)
    assert more
    url = more.group(1).replace("&amp;", "&")
    part = signed_in.get(url, headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    assert part.text.count('class="entry"') == 3 and "又加载了 3 条消息" in part.text
    # Without JavaScript the same link is a page of older messages.
    page = signed_in.get(url)
    assert "<html" in page.text and "更早的消息" in page.text and "没有更多消息了。" in page.text
    # A tampered cursor starts again from the newest.
    assert signed_in.get("/messages/more", params={"cursor": "!!"}).status_code == 200


def test_delete_a_message(signed_in, customer: Seeded, db) -> None:
    (mid,) = _send(db, customer.customer_id, 1)
    token = csrf_from(signed_in.get(f"/messages/{mid}").text)
    r = signed_in.post(f"/messages/{mid}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/messages?done=deleted"
    assert signed_in.get(f"/messages/{mid}").status_code == 404
    assert mid not in signed_in.get("/messages").text


def test_another_customers_message_is_not_found(signed_in, customer: Seeded, db) -> None:
    with db.unit_of_work() as s:
        other = identity.create_customer(s, username="other", password="other password 1", display_name="O")
        other_id = other.id
    (theirs,) = _send(db, other_id, 1)
    assert signed_in.get(f"/messages/{theirs}").status_code == 404
    token = page_token(signed_in, "/messages")
    assert signed_in.post(f"/messages/{theirs}/delete", data={"csrf_token": token}).status_code == 404
    with db.read_session() as s:
        assert messages.get_message(s, other_id, theirs).read_at is None
        assert messages.unread_count(s, other_id) == 1


def test_settings_consent_and_channels(signed_in, customer: Seeded, db) -> None:
    html = signed_in.get("/messages/settings").text
    assert "<h1>消息设置</h1>" in html
    assert re.search(r'name="marketing_opt_in"(?! checked)', html)  # off by default
    # Security alerts: checked, disabled, and the page says why.
    assert re.search(r'name="security\.sms" checked disabled aria-describedby="locked-security"', html)
    assert "安全提醒始终通过所有方式发送" in html
    assert 'name="service.sms"' not in html  # notices never go by text message
    token = csrf_from(html)
    r = signed_in.post("/messages/settings", data={
        "csrf_token": token, "marketing_opt_in": "on", "transaction.sms": "on", "security.sms": "",
    }, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/messages/settings?saved=1"
    with db.read_session() as s:
        prefs = messages.get_preferences(s, customer.customer_id)
    assert prefs.marketing_opt_in is True
    assert prefs.channels["transaction"] == {"sms": True, "push": False}  # push unticked: off
    assert prefs.channels["security"] == {"sms": True, "push": True}  # cannot be switched off
    saved = signed_in.get("/messages/settings?saved=1").text
    assert "消息设置已保存。" in saved and re.search(r'name="marketing_opt_in" checked', saved)


def test_english_pages(signed_in, customer: Seeded, db) -> None:
    with db.unit_of_work() as s:
        identity.get_customer(s, customer.customer_id).locale = "en"  # type: ignore[union-attr]
    (mid,) = _send(db, customer.customer_id, 1)
    signed_in.cookies.set("atrium_locale", "en")
    html = signed_in.get("/messages").text
    assert '<html lang="en">' in html and "<h1>Messages</h1>" in html
    assert '<span class="scope">Unread</span>' in html and "1 unread" in html
    assert "CN¥1.00 arrived in your account ending 1234." in html
    assert "Mark all as read" in html and ">Transactions" in html
    detail = signed_in.get(f"/messages/{mid}").text
    assert "Money received" in detail and "Delete this message" in detail
    settings = signed_in.get("/messages/settings").text
    assert "Send me offers and news from Atrium" in settings
    assert "Security alerts always reach you" in settings


def test_signed_out_goes_to_login(client, db) -> None:
    r = client.get("/messages", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_the_settings_form_offers_exactly_the_channels_one_may_change(signed_in, customer: Seeded) -> None:
    from atrium.messages.domain import RULES

    html = signed_in.get("/messages/settings").text
    enabled = set(re.findall(r'<input type="checkbox" name="([a-z]+\.[a-z]+)"(?:(?! disabled)[^>])*>', html))
    changeable = {f"{c}.{ch}" for c, rule in RULES.items() for ch in rule.allowed - rule.locked}
    assert enabled == changeable  # the page's form fields (messages.save_settings) follow the rules
