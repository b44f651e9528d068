"""/merchant: the merchant overview for a session acting as a merchant — its details and settlement balance,
the payments it received, and collection codes it issues (signed QR codes a customer can pay). Any other
identity is sent to /identities; the merchant shown is only ever the one the session's identity names."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from atrium.payments.qr import service as qr
from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.web.mobile import shell_support as shell
from tests.web.mobile.factories import page_token, seed_customer
from tests.web.mobile.shell_support import section

_PAYLOAD = re.compile(r'<code class="ref" id="code-payload">([^<]+)</code>')


@pytest.fixture()
def shop(db, customer):  # type: ignore[no-untyped-def]
    shell.sync_catalogue(db)
    return shell.add_merchant(db, customer.customer_id)


def _issue(signed_in, **form: str):  # type: ignore[no-untyped-def]
    token = page_token(signed_in, "/merchant")
    return signed_in.post("/merchant/qr", data={"csrf_token": token, **form})


def _payload(html: str) -> str:
    match = _PAYLOAD.search(html)
    assert match, "the page shows no issued code"
    return htmllib.unescape(match.group(1))


def test_a_person_is_sent_to_switch_identity(shop, signed_in):
    r = signed_in.get("/merchant", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/identities?need=merchant"
    token = page_token(signed_in, "/identities")
    r = signed_in.post("/merchant/qr", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/identities?need=merchant"


def test_the_overview_shows_the_merchant_and_its_balance(shop, signed_in):
    identity, _ = shop
    shell.switch(signed_in, identity.id)
    r = signed_in.get("/merchant")
    assert r.status_code == 200
    html = r.text
    assert "街角咖啡" in html and "餐饮" in html and "上海" in html and "正常营业" in html
    assert "待结算余额（CNY）" in html and "¥0.00" in html
    assert "还没有收款" in html


def test_payments_received_are_listed(shop, signed_in, db):
    identity, merchant_id = shop
    payer = seed_customer(db, username="lei", display_name="李雷", phone=None)
    with db.unit_of_work() as s:
        code = qr.issue_qr(s, merchant_id=merchant_id, currency="CNY", reference="order-77",
                           amount_minor=4_250)
        qr.pay_qr(s, customer_id=payer.customer_id, idempotency_key="merchant-page-pay-1",
                  from_account_id=payer.accounts[0].id, payload=code.payload, channel="mobile")
    shell.switch(signed_in, identity.id)
    html = signed_in.get("/merchant").text
    received = section(html, "received-head")
    assert "扫码收款" in received and "+¥42.50" in received and "order-77" in received
    assert "李雷" not in html  # the payer's name is not the merchant's to see
    assert "¥42.50" in section(html, "org-head")  # the settlement balance


def test_a_standing_code_is_issued_and_pays_the_merchant(shop, signed_in, db):
    identity, merchant_id = shop
    shell.switch(signed_in, identity.id)
    r = _issue(signed_in)
    assert r.status_code == 200
    assert "收款码已生成" in r.text and '<figure class="qr-code" role="img"' in r.text and "<svg" in r.text
    assert "顾客输入" in r.text
    with db.read_session() as s:
        details = qr.parse_qr(s, _payload(r.text))
    assert details.merchant.id == merchant_id and details.amount_minor is None
    assert (details.expires_at - details.issued_at).days == 30


def test_an_order_code_carries_its_amount_and_reference(shop, signed_in, db):
    identity, merchant_id = shop
    shell.switch(signed_in, identity.id)
    r = _issue(signed_in, amount="18.80", reference="table 7")
    assert r.status_code == 200 and "¥18.80" in r.text and "table 7" in r.text
    with db.read_session() as s:
        details = qr.parse_qr(s, _payload(r.text))
    assert (details.merchant.id, details.amount_minor, details.reference) == (merchant_id, 1_880, "table 7")


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [({"amount": "abc"}, "amount", "请输入正确的金额"),
     ({"amount": "0"}, "amount", "请输入正确的金额"),
     ({"amount": "1.234"}, "amount", "请输入正确的金额"),
     ({"currency": "USD"}, "currency", "商户不接受这个币种"),
     ({"reference": "x" * 33}, "reference", "备注最多 32 个")],
)
def test_bad_input_shows_the_form_again(shop, signed_in, form, field, message):
    identity, _ = shop
    shell.switch(signed_in, identity.id)
    r = _issue(signed_in, **form)
    assert r.status_code == 422
    assert message in r.text and f'id="{field}-error"' in r.text and 'id="code-payload"' not in r.text


def test_oversized_fields_are_a_bad_request(shop, signed_in):
    identity, _ = shop
    shell.switch(signed_in, identity.id)
    assert _issue(signed_in, reference="x" * 65).status_code == 400


def test_issuing_needs_csrf(shop, signed_in):
    identity, _ = shop
    shell.switch(signed_in, identity.id)
    assert signed_in.post("/merchant/qr", data={}).status_code == 403


def test_the_overview_follows_the_session_s_merchant_only(shop, signed_in, customer, db):
    identity, _ = shop
    second, _ = shell.add_merchant(db, customer.customer_id, name="第二家店")
    shell.switch(signed_in, identity.id)
    html = signed_in.get("/merchant").text
    assert "街角咖啡" in html and "第二家店" not in html
    shell.switch(signed_in, second.id)
    html = signed_in.get("/merchant").text
    assert "第二家店" in html and "街角咖啡" not in section(html, "org-head")


def test_english(shop, signed_in):
    identity, _ = shop
    shell.switch(signed_in, identity.id)
    signed_in.cookies.set(LOCALE_COOKIE, "en")
    html = signed_in.get("/merchant").text
    assert "Merchant overview" in html and "Dining" in html and "Make a collection code" in html
