"""Limits & switches: bank limits, own limits with usage, switches as toggles (htmx PUT and plain POST)."""

from __future__ import annotations

from atrium.limits import service as limits
from tests.web.mobile.factories import complete_step_up, page_token

HX = {"HX-Request": "true"}


def _switches(db, customer_id: str):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return limits.get_switches(s, customer_id)


def test_the_page_shows_switches_bank_limits_and_usage(signed_in, customer, db):
    r = signed_in.get("/limits")
    assert r.status_code == 200
    html = r.text
    assert html.count('role="switch"') == 5
    assert 'id="switch-overseas"' in html and 'aria-checked="false"' in html  # overseas is off by default
    assert "行内转账" in html and "跨行转账" in html and "扫码支付" in html
    assert "银行限额：单笔 ¥50,000.00 · 每日 ¥200,000.00 · 每月 ¥1,000,000.00" in html
    assert '<progress class="usage' in html and 'aria-label="今日已用 ¥0.00，每日限额 ¥200,000.00"' in html


def test_usage_bars_follow_payments(signed_in, customer, db):
    with db.unit_of_work() as s:
        limits.check_and_reserve(
            s,
            customer_id=customer.customer_id,
            channel="mobile",
            method="internal_transfer",
            amount_minor=5_000_000,
            currency="CNY",
        )
    html = signed_in.get("/limits").text
    assert 'max="20000000" value="5000000"' in html
    assert "今日剩余 ¥150,000.00" in html


def test_toggle_a_switch_with_htmx(signed_in, customer, db):
    token = page_token(signed_in, "/limits")
    r = signed_in.put(
        "/limits/switches/night_time", data={"on": "false"}, headers=HX | {"X-CSRF-Token": token}
    )
    assert r.status_code == 200
    assert "<html" not in r.text
    assert 'role="switch" aria-checked="false"' in r.text
    assert 'name="on" value="true"' in r.text  # the next press turns it back on
    assert 'id="live" hx-swap-oob="innerHTML"' in r.text and "已关闭" in r.text
    assert _switches(db, customer.customer_id).night_time is False


def test_toggle_a_switch_without_javascript(signed_in, customer, db):
    token = page_token(signed_in, "/limits")
    r = signed_in.post(
        "/limits/switches/overseas", data={"on": "true", "csrf_token": token}, follow_redirects=False
    )
    # Switching a payment type on is confirmed with a second factor first.
    assert _switches(db, customer.customer_id).overseas is False
    r = complete_step_up(signed_in, r, customer.phone)
    assert r.status_code == 303 and r.headers["location"] == "/limits"
    assert _switches(db, customer.customer_id).overseas is True


def test_switch_changes_need_csrf(signed_in, customer, db):
    r = signed_in.put("/limits/switches/night_time", data={"on": "false"}, headers=HX)
    assert r.status_code == 403
    r = signed_in.put(
        "/limits/switches/night_time", data={"on": "false"}, headers=HX | {"X-CSRF-Token": "f" * 64}
    )
    assert r.status_code == 403
    assert _switches(db, customer.customer_id).night_time is True


def test_unknown_switches_and_values_are_refused(signed_in):
    token = page_token(signed_in, "/limits")
    assert (
        signed_in.put(
            "/limits/switches/teleport", data={"on": "true"}, headers=HX | {"X-CSRF-Token": token}
        ).status_code
        == 422
    )
    assert (
        signed_in.put(
            "/limits/switches/overseas", data={"on": "maybe"}, headers=HX | {"X-CSRF-Token": token}
        ).status_code
        == 422
    )


def test_set_own_limits_with_htmx(signed_in, customer, db):
    token = page_token(signed_in, "/limits")
    r = signed_in.put(
        "/limits/own/internal_transfer",
        data={"currency": "CNY", "per_transaction": "500", "daily": "1000"},
        headers=HX | {"X-CSRF-Token": token},
    )
    assert r.status_code == 200
    assert 'id="limit-internal_transfer-CNY"' in r.text
    assert "单笔 ¥500.00" in r.text and "自设" in r.text
    assert "限额已保存" in r.text
    with db.read_session() as s:
        own = limits.get_own_limits(s, customer.customer_id)
    assert [(o.method, o.per_transaction_minor, o.daily_minor) for o in own] == [
        ("internal_transfer", 50_000, 100_000)
    ]


def test_own_limit_above_the_bank_limit_is_an_inline_error(signed_in, customer, db):
    token = page_token(signed_in, "/limits")
    r = signed_in.put(
        "/limits/own/internal_transfer",
        data={"currency": "CNY", "per_transaction": "99999999", "daily": ""},
        headers=HX | {"X-CSRF-Token": token},
    )
    assert r.status_code == 422
    assert "您的限额不能高于银行限额 ¥1,000,000.00" in r.text
    assert 'value="99999999"' in r.text and '<details class="own-form" open' in r.text
    with db.read_session() as s:
        assert limits.get_own_limits(s, customer.customer_id) == []


def test_own_limit_errors_without_javascript_render_the_whole_page(signed_in, customer):
    token = page_token(signed_in, "/limits")
    r = signed_in.post(
        "/limits/own/qr_payment", data={"currency": "CNY", "per_transaction": "abc", "csrf_token": token}
    )
    assert r.status_code == 422
    assert "<html" in r.text and "请输入有效金额" in r.text


def test_per_transaction_above_daily_is_refused(signed_in):
    token = page_token(signed_in, "/limits")
    r = signed_in.put(
        "/limits/own/internal_transfer",
        data={"currency": "CNY", "per_transaction": "900", "daily": "100"},
        headers=HX | {"X-CSRF-Token": token},
    )
    assert r.status_code == 422
    assert "单笔限额不能高于每日限额" in r.text


def test_clearing_own_limits_returns_to_the_bank_limit(signed_in, customer, db):
    with db.unit_of_work() as s:
        limits.set_own_limit(
            s,
            customer_id=customer.customer_id,
            method="qr_payment",
            currency="CNY",
            per_transaction_minor=1_000,
            daily_minor=None,
        )
    token = page_token(signed_in, "/limits")
    r = signed_in.post(
        "/limits/own/qr_payment",
        data={"currency": "CNY", "per_transaction": "", "daily": "", "csrf_token": token},
        follow_redirects=False,
    )
    # Back to the bank's (higher) limit is a raise: confirmed with a second factor first.
    with db.read_session() as s:
        assert len(limits.get_own_limits(s, customer.customer_id)) == 1
    r = complete_step_up(signed_in, r, customer.phone)
    assert r.status_code == 303
    with db.read_session() as s:
        assert limits.get_own_limits(s, customer.customer_id) == []
