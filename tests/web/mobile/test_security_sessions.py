"""/security/sessions and /security/history: accessible tables, remote sign-out with CSRF, both languages."""

from __future__ import annotations

import re

import pytest

from atrium.identity import login, sessions
from atrium.identity.protection import signins
from tests.web.mobile.factories import Seeded, csrf_from, page_token, seed_customer

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


def _other_session(db, customer_id: str, ip: str = "192.0.2.30") -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        _, principal = sessions.open_session(
            s, customer_id=customer_id, amr=["pwd"], ip=ip, user_agent=IPHONE
        )
    assert principal.sid
    return principal.sid


def _live(db, customer_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return [x.sid for x in signins.list_signed_in(s, customer_id).items]


def test_the_sessions_page_is_an_accessible_table(signed_in, customer: Seeded, db):
    other = _other_session(db, customer.customer_id)
    r = signed_in.get("/security/sessions")
    assert r.status_code == 200
    html = r.text
    assert "<caption" in html and "已登录的设备（2 台），本机在最前" in html
    assert html.count('<th scope="col">') == 5 and html.count('<th scope="row">') == 2
    assert "本机" in html and "iOS 上的 Safari" in html and "上海" in html and "192.0.2.30" in html
    assert html.index('class="is-current"') < html.index(other)  # this device first
    assert f'action="/security/sessions/{other}/revoke"' in html
    assert '退出<span class="sr-only">：iOS 上的 Safari</span>' in html  # the name says which device
    assert "退出其他所有设备（1 台）" in html and 'name="keep_current" value="false"' in html
    assert html.count('name="csrf_token"') == 4  # two rows, two "everywhere" forms


def test_english(signed_in, customer: Seeded, db):
    _other_session(db, customer.customer_id)
    signed_in.cookies.set("atrium_locale", "en")
    html = signed_in.get("/security/sessions").text
    assert '<html lang="en">' in html and "Signed-in devices (2), this one first" in html
    assert "Safari on iOS" in html and "Shanghai" in html and "This device" in html
    assert "Sign out all other devices (1)" in html
    history = signed_in.get("/security/history").text
    assert "Sign-ins, newest first" in history and "Succeeded" in history and "password" in history


def test_sign_out_another_device(signed_in, customer: Seeded, db):
    other = _other_session(db, customer.customer_id)
    token = page_token(signed_in, "/security/sessions")
    r = signed_in.post(
        f"/security/sessions/{other}/revoke", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/security/sessions?done=one"
    assert other not in _live(db, customer.customer_id)
    page = signed_in.get(r.headers["location"])
    assert "该设备已退出登录。" in page.text and 'role="status"' in page.text


def test_another_customers_session_is_a_404(signed_in, customer: Seeded, db):
    stranger = seed_customer(db, username="stranger", balance_minor=0, savings=False)
    theirs = _other_session(db, stranger.customer_id)
    token = page_token(signed_in, "/security/sessions")
    r = signed_in.post(f"/security/sessions/{theirs}/revoke", data={"csrf_token": token})
    assert r.status_code == 404 and "找不到该登录设备" in r.text
    assert theirs in _live(db, stranger.customer_id)


def test_writes_need_the_csrf_token(signed_in, customer: Seeded, db):
    other = _other_session(db, customer.customer_id)
    signed_in.get("/security/sessions")
    assert signed_in.post(f"/security/sessions/{other}/revoke").status_code == 403
    r = signed_in.post("/security/sessions/revoke-all", data={"keep_current": "true", "csrf_token": "f" * 64})
    assert r.status_code == 403
    assert other in _live(db, customer.customer_id)


def test_sign_out_everywhere_else(signed_in, customer: Seeded, db):
    others = [_other_session(db, customer.customer_id) for _ in range(2)]
    token = page_token(signed_in, "/security/sessions")
    r = signed_in.post(
        "/security/sessions/revoke-all", data={"keep_current": "true", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/security/sessions?done=all"
    live = _live(db, customer.customer_id)
    assert len(live) == 1 and not set(others) & set(live)
    page = signed_in.get(r.headers["location"]).text
    assert "其他设备已全部退出。" in page and "退出其他所有设备（0 台）" in page and " disabled" in page


def test_sign_out_everywhere_including_here(signed_in, customer: Seeded, db):
    _other_session(db, customer.customer_id)
    token = page_token(signed_in, "/security/sessions")
    r = signed_in.post(
        "/security/sessions/revoke-all", data={"keep_current": "false", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert _live(db, customer.customer_id) == []
    assert "atrium_session" not in signed_in.cookies
    assert signed_in.get("/security/sessions", follow_redirects=False).status_code == 303


def test_sign_out_this_device_from_its_row(signed_in, customer: Seeded, db):
    html = signed_in.get("/security/sessions").text
    (mine,) = re.findall(r'action="/security/sessions/([A-Za-z0-9_]+)/revoke"', html)
    r = signed_in.post(f"/security/sessions/{mine}/revoke", data={"csrf_token": csrf_from(html)},
                       follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert _live(db, customer.customer_id) == []


def test_the_history_page_lists_attempts_newest_first(signed_in, customer: Seeded, db):
    client_info = login.Client(ip="198.51.100.20", user_agent=IPHONE)
    db.run(lambda s: login.record_failure(s, username=customer.username, method="pwd", client=client_info))
    r = signed_in.get("/security/history")
    assert r.status_code == 200
    html = r.text
    assert "<caption" in html and "登录记录，最新的在前" in html
    assert html.count('<th scope="col">') == 5
    rows = re.findall(r"<tr>\s*<th scope=\"row\">", html)
    assert len(rows) == 3  # this sign-in (password, then the SMS code: two events) and the failure
    assert html.index("outcome-failure") < html.index("outcome-success")  # newest (the failure) first
    assert "北京" in html and "198.51.100.20" in html and "iOS 上的 Safari" in html


def test_the_history_pages_on(signed_in, customer: Seeded, db):
    client_info = login.Client(ip="203.0.113.9", user_agent=IPHONE)
    for _ in range(21):
        db.run(
            lambda s: login.record_failure(s, username=customer.username, method="sms", client=client_info)
        )
    html = signed_in.get("/security/history").text
    more = re.search(r'href="(/security/history\?cursor=[^"]+)"', html)
    assert more and "查看更早的记录" in html
    older = signed_in.get(more.group(1).replace("&amp;", "&")).text
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">", older)) == 3  # 23 events: 20 + 3
    assert "查看更早的记录" not in older
    assert signed_in.get("/security/history?cursor=garbage").status_code == 422


def test_pages_need_a_customer_session(client, db):
    for path in ("/security/sessions", "/security/history"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/security/")


# --- in the browser ------------------------------------------------------------------------------------



def _axe_and_targets(pg) -> tuple[list, list]:  # type: ignore[no-untyped-def, type-arg]
    from tests.web.browser.test_accessibility import _small_targets
    from tests.web.browser_support import axe_violations as _axe

    return _axe(pg), _small_targets(pg)


@pytest.mark.browser
def test_the_pages_in_a_phone_browser(browser, live_server, page, db):
    from tests.web.browser_support import PHONE, SCREENSHOTS, sign_in

    who = seed_customer(db, username="browser.mei", balance_minor=0, savings=False)
    _other_session(db, who.customer_id, ip="203.0.113.200")
    sign_in(page, who.username, who.password)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/security/sessions")
    page.screenshot(path=str(SCREENSHOTS / "security-sessions.png"), full_page=True)
    assert page.get_by_role("table").count() == 1
    page.get_by_role("button", name="退出其他所有设备（1 台）").click()
    page.wait_for_url("**/security/sessions?done=all")
    assert page.get_by_role("status").filter(has_text="其他设备已全部退出").count() == 1
    page.goto("/security/history")
    page.screenshot(path=str(SCREENSHOTS / "security-history.png"), full_page=True)
    assert page.locator("tbody tr").count() >= 1

    # axe and 44 px targets (axe is injected as a script, so this context bypasses the CSP)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server, bypass_csp=True)
    context.add_cookies(page.context.cookies())
    audit = context.new_page()
    try:
        for path in ("/security/sessions", "/security/history"):
            audit.goto(path)
            violations, small = _axe_and_targets(audit)
            assert not violations, (path, violations)
            assert not small, (path, small)
        audit.set_viewport_size({"width": 1024, "height": 768})
        audit.goto("/security/sessions")
        audit.screenshot(path=str(SCREENSHOTS / "security-sessions-wide.png"), full_page=True)
    finally:
        context.close()
