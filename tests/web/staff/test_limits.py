"""Bank limits: everyone with `limits.view` reads them; operators and administrators change them."""

from __future__ import annotations

import re

import pytest

from atrium.limits import service as limits
from tests.web.staff.factories import csrf_from, make_staff, sign_in

EDIT = "/staff/limits/mobile/internal_transfer/CNY"


def _bank(db, channel="mobile", method="internal_transfer", currency="CNY"):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return limits.get_bank_limit(s, channel=channel, method=method, currency=currency)


def _save(client, data: dict[str, str], path: str = EDIT):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/staff/limits").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_the_table_lists_every_limit_and_filters(as_operator) -> None:  # type: ignore[no-untyped-def]
    html = as_operator.get("/staff/limits").text
    rows = re.findall(r"<tr(?: class=\"row-highlight\")?>\s*<td>(CNY|USD)</td>", html)
    assert len(rows) == 2 * 4 * 5  # currencies × methods × channels
    assert "¥50,000.00" in html and "US$5,000.00" in html
    assert html.count('href="/staff/limits/') == 40
    cny_mobile = as_operator.get("/staff/limits", params={"currency": "CNY", "channel": "mobile"}).text
    assert len(re.findall(r"<td>CNY</td>", cny_mobile)) == 4 and "US$" not in cny_mobile
    assert as_operator.get("/staff/limits", params={"channel": "fax"}).status_code == 422


def test_roles_that_only_read_see_no_edit_links(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "risk_analyst"))
    html = client.get("/staff/limits").text
    assert 'href="/staff/limits/' not in html and "您的角色只能查看限额" in html


def test_an_operator_changes_a_limit(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    form = as_operator.get(EDIT)
    assert form.status_code == 200
    assert '<label for="per_transaction">' in form.text and 'value="50000.00"' in form.text
    r = _save(as_operator, {"per_transaction": "30,000", "daily": "１５００００.５０", "monthly": "900000"})
    assert r.status_code == 303
    assert r.headers["location"] == "/staff/limits?currency=CNY&saved=mobile.internal_transfer.CNY"
    bank = _bank(db)
    assert (bank.per_transaction_minor, bank.daily_minor, bank.monthly_minor) == (
        3_000_000,
        15_000_050,
        90_000_000,
    )
    page = as_operator.get(r.headers["location"]).text
    assert (
        "已保存：行内转账 · 手机银行 · CNY" in page
        and 'class="row-highlight"' in page
        and "¥150,000.50" in page
    )
    assert _bank(db, channel="web").per_transaction_minor == 5_000_000  # only that one row changed


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"per_transaction": "abc", "daily": "1", "monthly": "1"}, "per_transaction"),
        ({"per_transaction": "1", "daily": "-5", "monthly": "1"}, "daily"),
        ({"per_transaction": "1", "daily": "1", "monthly": "1.001"}, "monthly"),
        ({"per_transaction": "1", "daily": "1", "monthly": "1e9"}, "monthly"),
        ({"per_transaction": "1", "daily": "1", "monthly": ""}, "monthly"),
    ],
)
def test_bad_amounts_are_shown_at_their_field(as_operator, db, data, field) -> None:  # type: ignore[no-untyped-def]
    r = _save(as_operator, data)
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.text and 'aria-invalid="true"' in r.text
    assert _bank(db).per_transaction_minor == 5_000_000


def test_limits_that_contradict_each_other_are_refused(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    r = _save(as_operator, {"per_transaction": "300,000", "daily": "200,000", "monthly": "1,000,000"})
    assert r.status_code == 422 and 'id="form-error"' in r.text and "单笔 ≤ 每日 ≤ 每月" in r.text
    assert 'value="300,000"' in r.text  # what was typed stays in the form
    assert _bank(db).per_transaction_minor == 5_000_000


def test_zero_switches_a_method_off_and_jpy_has_no_decimals(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    assert _save(as_operator, {"per_transaction": "0", "daily": "0", "monthly": "0"}).status_code == 303
    assert _bank(db).monthly_minor == 0
    path = "/staff/limits/mobile/internal_transfer/JPY"
    assert (
        _save(as_operator, {"per_transaction": "1.5", "daily": "2", "monthly": "3"}, path).status_code == 422
    )
    assert _save(as_operator, {"per_transaction": "1", "daily": "2", "monthly": "3"}, path).status_code == 303
    assert _bank(db, currency="JPY").monthly_minor == 3


@pytest.mark.parametrize(
    "path",
    [
        "/staff/limits/fax/internal_transfer/CNY",
        "/staff/limits/mobile/cheque/CNY",
        "/staff/limits/mobile/internal_transfer/XYZ",
    ],
)
def test_unknown_limits_are_404_pages(as_operator, path: str) -> None:  # type: ignore[no-untyped-def]
    assert as_operator.get(path).status_code == 404
    assert _save(as_operator, {"per_transaction": "1", "daily": "1", "monthly": "1"}, path).status_code == 404


@pytest.mark.parametrize("role", ["account_manager", "risk_analyst", "compliance_officer"])
def test_other_roles_cannot_change_limits(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, role))
    assert client.get(EDIT).status_code == 403
    r = _save(client, {"per_transaction": "1", "daily": "1", "monthly": "1"})
    assert r.status_code == 403 and "无权访问" in r.text
    assert _bank(db).per_transaction_minor == 5_000_000


def test_an_administrator_changes_a_limit_in_english(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "administrator"))
    client.cookies.set("atrium_locale", "en")
    assert "Edit bank limit" in client.get(EDIT).text
    r = _save(client, {"per_transaction": "1,000", "daily": "2,000", "monthly": "3,000"})
    assert r.status_code == 303
    assert "Saved: Internal transfer · Mobile · CNY" in client.get(r.headers["location"]).text
