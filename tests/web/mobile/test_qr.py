"""QR pay: paste a signed payload → the verified merchant and amount → pay → the result screen."""

from __future__ import annotations

import re

from atrium.accounts import service as accounts
from atrium.limits import service as limits
from tests.web.mobile.factories import csrf_from, page_token, qr_code
from tests.web.mobile.shell_support import sync_catalogue


def _balance(db, customer) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return accounts.get_owned(
            s, customer_id=customer.customer_id, account_id=customer.accounts[0].id
        ).available_minor


def _review(client, payload: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/pay/qr/review", data={"payload": payload, "csrf_token": page_token(client, "/pay/qr")}
    )


def _confirm_data(html: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    checked = re.search(r'name="from_account_id" value="([^"]+)" checked', html)
    return fields | {"from_account_id": checked.group(1) if checked else ""}


def test_the_scan_page_offers_camera_paste_and_upload(signed_in, db):
    sync_catalogue(db)  # the bottom tabs come from the service catalogue
    r = signed_in.get("/pay/qr")
    assert r.status_code == 200
    assert 'id="qr-video"' in r.text and "data-qr-start" in r.text
    assert '<textarea class="input" id="payload" name="payload"' in r.text
    assert 'type="file" accept="image/*,text/plain"' in r.text
    assert "/static/mobile/js/qr.js" in r.text
    assert 'href="/pay/qr" class="tab-scan" aria-current="page"' in r.text


def test_pay_a_fixed_amount_code(signed_in, customer, db):
    payload = qr_code(db)
    review = _review(signed_in, payload)
    assert review.status_code == 200
    assert "街角咖啡" in review.text and "¥42.50" in review.text and "已验证" in review.text
    assert "餐饮美食 · 上海" in review.text and "order-1" in review.text
    data = _confirm_data(review.text)
    assert data["payload"] == payload and data["idempotency_key"]
    done = signed_in.post("/pay/qr/confirm", data=data, follow_redirects=False)
    assert done.status_code == 303
    again = signed_in.post("/pay/qr/confirm", data=data, follow_redirects=False)
    assert again.headers["location"] == done.headers["location"]  # a double tap pays once
    result = signed_in.get(done.headers["location"])
    assert "付款成功" in result.text and "¥42.50" in result.text and "街角咖啡" in result.text
    assert _balance(db, customer) == 1_250_000 - 4_250
    # The code is now spent.
    second = _review(signed_in, payload)
    assert second.status_code == 422 and "此二维码已付款" in second.text


def test_an_open_amount_code_asks_for_the_amount(signed_in, customer, db):
    payload = qr_code(db, amount_minor=None, reference="stall")
    review = _review(signed_in, payload)
    assert 'id="amount" name="amount"' in review.text
    data = _confirm_data(review.text)
    bad = signed_in.post("/pay/qr/confirm", data=data | {"amount": "abc"})
    assert bad.status_code == 422 and "金额格式不正确" in bad.text
    done = signed_in.post("/pay/qr/confirm", data=data | {"amount": "18.8"}, follow_redirects=False)
    assert done.status_code == 303
    assert _balance(db, customer) == 1_250_000 - 1_880


def test_a_tampered_code_is_refused_before_anything_is_shown(signed_in, db):
    payload = qr_code(db)
    prefix, claims, signature = payload.split(".")
    forged = ".".join([prefix, claims[:-2] + ("A" if claims[-2] != "A" else "B") + claims[-1], signature])
    r = _review(signed_in, forged)
    assert r.status_code == 422
    assert "二维码验证失败" in r.text or "这不是中庭银行的付款码" in r.text
    assert "街角咖啡" not in r.text


def test_garbage_and_empty_payloads_are_explained(signed_in, db):
    r = _review(signed_in, "hello")
    assert r.status_code == 422 and "这不是中庭银行的付款码" in r.text
    assert 'aria-invalid="true"' in r.text
    r = _review(signed_in, "  ")
    assert r.status_code == 422 and "请扫描、粘贴或上传二维码" in r.text


def test_the_qr_switch_refusal_is_shown_on_the_confirmation(signed_in, customer, db):
    with db.unit_of_work() as s:
        limits.set_switches(s, customer_id=customer.customer_id, changes={"qr_payments": False})
    review = _review(signed_in, qr_code(db))
    r = signed_in.post("/pay/qr/confirm", data=_confirm_data(review.text))
    assert r.status_code == 422
    assert "“扫码支付”已关闭" in r.text
    assert _balance(db, customer) == 1_250_000


def test_qr_posts_need_csrf(signed_in, db):
    payload = qr_code(db)
    signed_in.get("/pay/qr")
    assert signed_in.post("/pay/qr/review", data={"payload": payload}).status_code == 403
    review = _review(signed_in, payload)
    data = _confirm_data(review.text) | {"csrf_token": "nope"}
    assert signed_in.post("/pay/qr/confirm", data=data).status_code == 403
    assert csrf_from(review.text)


# --- elder mode: the payment is read back and pays only with the person's tick ---------------------------

_READBACK = re.compile(r'name="readback" value="([0-9a-f]+)"')


def _elder(client) -> None:  # type: ignore[no-untyped-def]
    token = page_token(client, "/settings")
    r = client.post("/display-mode", data={"ui_mode": "elder", "next": "/settings", "csrf_token": token})
    assert 'class="mode-elder"' in r.text


def test_elder_fixed_amount_code_pays_only_with_the_tick(signed_in, customer, db):
    _elder(signed_in)
    review = _review(signed_in, qr_code(db))
    assert "您要向商户“街角咖啡”付款 ¥42.50，大写：人民币肆拾贰元伍角。" in review.text
    assert "确认无误，付款" in review.text
    data = _confirm_data(review.text)
    refused = signed_in.post("/pay/qr/confirm", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "请先核对收款人和金额" in refused.text
    assert _balance(db, customer) == 1_250_000
    forged = signed_in.post("/pay/qr/confirm", data=data | {"readback": "0" * 40}, follow_redirects=False)
    assert forged.status_code == 422 and "金额或收款人有变化" in forged.text
    assert _balance(db, customer) == 1_250_000
    tick = _READBACK.search(review.text).group(1)
    done = signed_in.post("/pay/qr/confirm", data=data | {"readback": tick}, follow_redirects=False)
    assert done.status_code == 303
    assert _balance(db, customer) == 1_250_000 - 4_250


def test_elder_open_amount_is_read_back_once_typed(signed_in, customer, db):
    _elder(signed_in)
    review = _review(signed_in, qr_code(db, amount_minor=None, reference="stall"))
    assert 'name="readback"' not in review.text and "下一步：核对" in review.text
    data = _confirm_data(review.text)
    step = signed_in.post("/pay/qr/confirm", data=data | {"amount": "18.8"}, follow_redirects=False)
    assert step.status_code == 200  # a step, not a refusal: nothing paid yet
    assert "人民币壹拾捌元捌角" in step.text and "请先核对" not in step.text
    assert _balance(db, customer) == 1_250_000
    tick = _READBACK.search(step.text).group(1)
    # The amount changed after the read-back: the tick no longer fits it.
    changed = signed_in.post("/pay/qr/confirm", data=data | {"amount": "88", "readback": tick})
    assert changed.status_code == 422 and "人民币捌拾捌元整" in changed.text
    assert _balance(db, customer) == 1_250_000
    done = signed_in.post("/pay/qr/confirm", data=data | {"amount": "18.8", "readback": tick},
                          follow_redirects=False)
    assert done.status_code == 303
    assert _balance(db, customer) == 1_250_000 - 1_880
