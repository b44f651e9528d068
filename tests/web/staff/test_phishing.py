"""The console's registered-channels page: who may open it, listing, adding, retiring, audit, zh/en."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from atrium.antiphishing import models as _models  # noqa: F401 - its tables, for the test schema
from atrium.antiphishing import service as phishing
from atrium.antiphishing.models import ChannelChange, RegisteredChannel
from atrium.staff.permissions import ROLES
from tests.web.staff.factories import csrf_from, make_staff, sign_in

PAGE = "/staff/phishing"
ALLOWED = {"administrator", "operator"}


@pytest.fixture()
def client(client, db):  # type: ignore[no-untyped-def]
    """The shared test client, with the bank's registered channels in place."""
    with db.unit_of_work() as s:
        phishing.ensure_defaults(s)
    return client


def _token(client) -> str:  # type: ignore[no-untyped-def]
    return csrf_from(client.get(PAGE).text)


def test_only_roles_with_phishing_manage_may_open_the_page(client, db) -> None:  # type: ignore[no-untyped-def]
    from atrium.staff import permissions

    for role in ROLES:
        user = make_staff(db, role)
        sign_in(client, user)
        r = client.get(PAGE)
        expected = 200 if permissions.allowed(role, "phishing.manage") else 403
        assert r.status_code == expected, role
        assert (role in ALLOWED) == (expected == 200), role


def test_visitors_sign_in_first_and_customers_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    r = client.get(PAGE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login?next=/staff/phishing"
    from tests.web.mobile.factories import login, seed_customer

    login(client, seed_customer(db))
    assert client.get(PAGE).status_code == 403


def test_the_page_lists_the_defaults_in_both_languages(as_operator) -> None:  # type: ignore[no-untyped-def]
    zh = as_operator.get(PAGE)
    assert "官方渠道登记" in zh.text and "atrium.bank" in zh.text and "400-820-2026" in zh.text
    assert "含所有子域名" in zh.text and "系统预置" in zh.text
    en = as_operator.get(PAGE, headers={"Accept-Language": "en"})
    assert "Registered channels" in en.text and "Shipped default" in en.text


def test_an_operator_adds_and_retires_a_channel(as_operator, operator, db) -> None:  # type: ignore[no-untyped-def]
    r = as_operator.post(PAGE, data={"kind": "phone", "value": "+86 21 6020 2026", "label": "海外客服",
                                     "csrf_token": _token(as_operator)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(PAGE + "?saved=pch_")
    page = as_operator.get(r.headers["location"])
    assert "已登记 +86 21 6020 2026" in page.text and "02160202026" in page.text
    with db.read_session() as s:
        row = s.scalars(select(RegisteredChannel).where(RegisteredChannel.value == "02160202026")).one()
        assert row.added_by == operator.id
    r = as_operator.post(f"{PAGE}/{row.id}/retire", data={"csrf_token": _token(as_operator)},
                         follow_redirects=False)
    assert r.status_code == 303
    assert "已停用 +86 21 6020 2026" in as_operator.get(r.headers["location"]).text
    with db.read_session() as s:
        actions = [c.action for c in s.scalars(select(ChannelChange).where(ChannelChange.channel_id == row.id)
                                               .order_by(ChannelChange.id))]
        assert actions == ["added", "retired"]
        assert not s.get(RegisteredChannel, row.id).active
    again = as_operator.post(f"{PAGE}/{row.id}/retire", data={"csrf_token": _token(as_operator)})
    assert again.status_code == 409


def test_bad_input_is_shown_next_to_its_field(as_operator) -> None:  # type: ignore[no-untyped-def]
    token = _token(as_operator)
    r = as_operator.post(PAGE, data={"kind": "phone", "value": "nonumber", "label": "x", "csrf_token": token})
    assert r.status_code == 422 and "格式不正确" in r.text and 'aria-invalid="true"' in r.text
    duplicate = {"kind": "web", "value": "ATRIUM.BANK", "label": "Again", "csrf_token": token}
    r = as_operator.post(PAGE, data=duplicate)
    assert r.status_code == 422 and "该渠道已登记且有效" in r.text
    r = as_operator.post(PAGE, data={"kind": "fax", "value": "", "label": "", "csrf_token": token})
    assert r.status_code == 422 and r.text.count('class="field-error"') == 3


def test_writes_need_the_csrf_token_and_the_permission(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "operator"))
    assert client.post(PAGE, data={"kind": "web", "value": "x.bank", "label": "x"}).status_code == 403
    sign_in(client, make_staff(db, "account_manager"))
    token = csrf_from(client.get("/staff").text)
    r = client.post(PAGE, data={"kind": "web", "value": "x.bank", "label": "x", "csrf_token": token})
    assert r.status_code == 403
    with db.read_session() as s:
        assert s.scalars(select(RegisteredChannel).where(RegisteredChannel.value == "x.bank")).first() is None


def test_the_console_catalogue_files_agree() -> None:
    folder = Path(__file__).resolve().parents[3] / "src" / "atrium" / "web" / "staff" / "i18n"
    zh = json.loads((folder / "zh.phishing.json").read_text(encoding="utf-8"))
    en = json.loads((folder / "en.phishing.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    fields = re.compile(r"{(\w+)}")
    assert all(set(fields.findall(zh[k])) == set(fields.findall(en[k])) for k in zh)
    template = (folder.parent / "templates" / "staff" / "phishing.html").read_text(encoding="utf-8")
    used = set(re.findall(r"""(?<![\w.])t\(\s*["']([a-z0-9_.\-]+)["']""", template))
    assert {k for k in used if k.startswith("phishing.") and not k.endswith(".")} <= set(zh)
    assert all(f"phishing.kind.{kind}" in zh for kind in ("web", "email", "phone", "sms"))
    assert all(f"phishing.action.{a}" in zh for a in ("seeded", "added", "retired"))
