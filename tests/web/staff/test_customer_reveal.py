"""Revealing one field on the 360 page: only with `customers.unmask`, only with a purpose and a reason,
one `customer.unmask` record per reveal (the field's name, never its value), and a limit per staff member."""

from __future__ import annotations

import pytest

from atrium.config import get_settings
from atrium.staff import service as staff_service
from tests.web.staff.customer_book import leaked, make_book
from tests.web.staff.factories import csrf_from, make_staff, sign_in

HTMX = {"HX-Request": "true"}
WHY = "客户来电核实身份，已回拨确认"


def _records(db, **filters):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return staff_service.list_access(s, **filters).items


@pytest.fixture()
def book(db):  # type: ignore[no-untyped-def]
    return make_book(db)


@pytest.fixture()
def manager(client, db):  # type: ignore[no-untyped-def]
    user = make_staff(db, "account_manager", username="am.zhou", display_name="周经理")
    sign_in(client, user)
    return user


def _post(client, book, field="phone", *, category="identity_check", reason=WHY, htmx=True, token=None):  # type: ignore[no-untyped-def]
    cid = book.mei.customer_id
    token = token or csrf_from(client.get(f"/staff/customers/{cid}").text)
    return client.post(
        f"/staff/customers/{cid}/reveal/{field}",
        data={"csrf_token": token, "category": category, "reason": reason},
        headers=HTMX if htmx else {},
    )


def test_a_manager_sees_a_reveal_form_per_field_on_file(client, manager, book) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/staff/customers/{book.mei.customer_id}").text
    for field in ("legal_name", "id_number", "phone", "email", "address"):
        assert f'hx-post="/staff/customers/{book.mei.customer_id}/reveal/{field}"' in html
        assert f'<label for="kyc-why-{field}">' in html and f'<label for="kyc-cat-{field}">' in html
    assert '<option value="fraud_investigation">欺诈调查</option>' in html
    assert "您当前还可查看 20 项明文" in html
    assert leaked(html, book) == []


def test_revealing_the_phone_swaps_in_its_value_and_records_the_reveal(client, manager, db, book) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, book)
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div class="kyc-row is-revealed" id="kyc-phone">')
    assert "+8613912345678" in r.text and "已显示明文" in r.text
    assert '<div id="live" hx-swap-oob="innerHTML">已显示手机号码明文' in r.text
    assert r.headers["cache-control"] == "no-store"
    # Only the phone: nothing else of Mei's in the answer.
    assert [s for s in leaked(r.text, book) if s not in ("+8613912345678", "13912345678")] == []
    unmask, view = _records(db)
    assert (unmask.action, unmask.screen, unmask.detail, unmask.customer_id, unmask.staff_id) == (
        "customer.unmask",
        "customer.kyc",
        "field=phone",
        book.mei.customer_id,
        manager.id,
    )
    assert (unmask.reason_category, unmask.reason) == ("identity_check", WHY)
    assert view.action == "customer.view"  # the page the form came from
    assert not any("13912345678" in r.model_dump_json() for r in _records(db))
    # The page is masked again on the next read.
    assert leaked(client.get(f"/staff/customers/{book.mei.customer_id}").text, book) == []


@pytest.mark.parametrize(
    ("category", "reason", "message", "invalid"),
    [
        ("identity_check", "", "至少 6 个汉字或 12 个字母", "kyc-why-phone"),
        ("identity_check", "查一下", "至少 6 个汉字或 12 个字母", "kyc-why-phone"),
        ("", WHY, "请选择查看明文的用途", "kyc-cat-phone"),
        ("curiosity", WHY, "请选择查看明文的用途", "kyc-cat-phone"),
    ],
)
def test_a_reveal_without_a_reason_is_refused_and_writes_nothing(
    client, manager, db, book, category, reason, message, invalid
) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(f"/staff/customers/{book.mei.customer_id}").text)
    before = _records(db)
    r = _post(client, book, category=category, reason=reason, token=token)
    assert r.status_code == 422
    assert r.headers["hx-retarget"] == "#kyc-form-phone" and r.headers["hx-reswap"] == "outerHTML"
    assert r.text.lstrip().startswith('<details class="reveal" id="kyc-form-phone" open>')
    assert message in r.text and 'role="alert"' in r.text
    assert f'id="{invalid}"' in r.text and 'aria-invalid="true"' in r.text
    assert leaked(r.text, book) == []
    assert _records(db) == before


def test_without_javascript_a_reveal_is_a_page_of_its_own(client, manager, db, book) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, book, field="email", htmx=False)
    assert r.status_code == 200 and "<html" in r.text and "meili.wang@example.com" in r.text
    assert "返回客户详情" in r.text
    refused = _post(client, book, field="email", reason="", htmx=False)
    assert refused.status_code == 422 and "<html" in refused.text and "至少 6 个汉字" in refused.text
    assert "meili.wang@example.com" not in refused.text
    assert [r.detail for r in _records(db, action="customer.unmask")] == ["field=email"]


@pytest.mark.parametrize("role", ["operator", "compliance_officer"])
def test_roles_without_unmask_get_no_button_and_a_403(client, db, book, role: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, role))
    token = csrf_from(client.get("/staff").text)
    page = client.get(f"/staff/customers/{book.mei.customer_id}")
    assert "/reveal/" not in page.text
    before = len(_records(db))
    r = _post(client, book, token=token)
    assert r.status_code == 403 and leaked(r.text, book) == []
    assert len(_records(db)) == before
    assert _records(db, action="customer.unmask") == []


def test_a_reveal_needs_the_csrf_token(client, manager, db, book) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        f"/staff/customers/{book.mei.customer_id}/reveal/phone",
        data={"category": "identity_check", "reason": WHY},
        headers=HTMX,
    )
    assert r.status_code == 403 and "+8613912345678" not in r.text
    assert _records(db, action="customer.unmask") == []


def test_unknown_fields_and_details_not_on_file_reveal_and_record_nothing(client, manager, db, book) -> None:  # type: ignore[no-untyped-def]
    from tests.web.mobile.factories import seed_customer

    bare = seed_customer(db, username="bo", display_name="Bo Li", phone=False)
    token = csrf_from(client.get(f"/staff/customers/{book.mei.customer_id}").text)
    assert _post(client, book, field="password_hash", token=token).status_code == 404
    r = client.post(
        f"/staff/customers/{bare.customer_id}/reveal/phone",
        data={"csrf_token": token, "category": "identity_check", "reason": WHY},
        headers=HTMX,
    )
    assert r.status_code == 404 and "未登记" in r.text
    assert _records(db, action="customer.unmask") == []


def test_the_reveal_limit_answers_429_with_retry_after(client, manager, db, book, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(get_settings().staff, "reveal_limit", 2)
    token = csrf_from(client.get(f"/staff/customers/{book.mei.customer_id}").text)
    assert _post(client, book, field="phone", token=token).status_code == 200
    assert _post(client, book, field="email", token=token).status_code == 200
    r = _post(client, book, field="address", token=token)
    assert r.status_code == 429 and 3500 <= int(r.headers["retry-after"]) <= 3600
    assert "您已达到查看明文的次数上限，请约 60 分钟后再试" in r.text and "上海市梧桐路88号" not in r.text
    assert [x.detail for x in _records(db, action="customer.unmask")] == ["field=email", "field=phone"]
    assert "您当前还可查看 0 项明文" in client.get(f"/staff/customers/{book.mei.customer_id}").text
    page = _post(client, book, field="address", token=token, htmx=False)
    assert page.status_code == 429 and "<html" in page.text
