"""Transfer: form → confirmation → result; validation, refusals and double submits."""

from __future__ import annotations

import re

from atrium.accounts import service as accounts
from atrium.accounts.domain import luhn_check_digit
from atrium.limits import service as limits
from atrium.payments import service as payments
from atrium.payments.schemas import PayeeCreate
from tests.web.mobile.factories import complete_step_up, csrf_from, page_token, seed_customer

# A well-formed account number (its check digit matches) that no account has.
UNKNOWN_NUMBER = "622288000000000000" + luhn_check_digit("622288000000000000")


def _form(client, path: str = "/transfer") -> dict[str, str]:  # type: ignore[no-untyped-def]
    html = client.get(path).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_from(html), "idempotency_key": key}


def _balance(db, customer_id: str, account_id: str) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        return accounts.get_owned(s, customer_id=customer_id, account_id=account_id).available_minor


def test_the_form_offers_accounts_payees_and_a_fresh_key(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        payments.save_payee(
            s,
            customer_id=customer.customer_id,
            data=PayeeCreate(
                type="atrium",
                account_number=other.accounts[0].number,
                account_name="李雷",
                nickname="李雷房东",
            ),
        )
    r = signed_in.get("/transfer")
    assert r.status_code == 200
    html = r.text
    current, savings = customer.accounts
    assert f'name="from_account_id" value="{current.id}" checked' in html
    assert f'value="own:{savings.id}" checked' in html  # the other own account is the default payee
    assert "李雷房东" in html and 'value="payee:' in html
    assert 'value="number"' in html
    assert "可用余额 ¥12,500.00" in html
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    assert key != re.search(r'name="idempotency_key" value="([^"]+)"', signed_in.get("/transfer").text).group(
        1
    )


def test_own_transfer_confirm_result_and_statement(signed_in, customer, db):
    current, savings = customer.accounts
    data = _form(signed_in) | {
        "from_account_id": current.id,
        "to": f"own:{savings.id}",
        "amount": "1,000.50",
        "memo": "储蓄",
    }
    review = signed_in.post("/transfer/review", data=data)
    assert review.status_code == 200
    assert "确认转账" in review.text and "¥1,000.50" in review.text and "免费" in review.text
    assert "实时到账" in review.text
    assert f'name="idempotency_key" value="{data["idempotency_key"]}"' in review.text
    done = signed_in.post(
        "/transfer/confirm", data=data | {"csrf_token": csrf_from(review.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    result = signed_in.get(done.headers["location"])
    assert "转账成功" in result.text and "¥1,000.50" in result.text
    assert _balance(db, customer.customer_id, current.id) == 1_250_000 - 100_050
    assert _balance(db, customer.customer_id, savings.id) == 100_050
    statement = signed_in.get(f"/accounts/{current.id}").text
    assert "储蓄" in statement and "-¥1,000.50" in statement


def test_a_double_submit_pays_once(signed_in, customer, db):
    current, savings = customer.accounts
    data = _form(signed_in) | {"from_account_id": current.id, "to": f"own:{savings.id}", "amount": "12000"}
    first = signed_in.post("/transfer/confirm", data=data, follow_redirects=False)
    again = signed_in.post("/transfer/confirm", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert _balance(db, customer.customer_id, current.id) == 50_000


def test_the_same_key_with_other_details_pays_nothing_more(signed_in, customer, db):
    current, savings = customer.accounts
    data = _form(signed_in) | {"from_account_id": current.id, "to": f"own:{savings.id}", "amount": "10"}
    assert signed_in.post("/transfer/confirm", data=data, follow_redirects=False).status_code == 303
    r = signed_in.post("/transfer/confirm", data=data | {"amount": "20"})
    assert r.status_code == 422
    assert "此表单已提交过一笔不同的转账" in r.text
    assert data["idempotency_key"] not in r.text  # a new key for the new transfer
    assert _balance(db, customer.customer_id, current.id) == 1_250_000 - 1_000


def test_to_another_customer_by_number_shows_the_masked_name(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": "number",
        "account_number": " ".join(other.accounts[0].number[i : i + 4] for i in range(0, 19, 4)),
        "amount": "88",
    }
    review = signed_in.post("/transfer/review", data=data)
    assert review.status_code == 200
    assert "*雷" in review.text and "李雷" not in review.text
    assert other.accounts[0].masked_number in review.text
    assert "谨防诈骗" in review.text
    done = signed_in.post("/transfer/confirm", data=data, follow_redirects=False)
    assert done.status_code == 303
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000 + 8_800


def test_to_a_saved_payee(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        payee = payments.save_payee(
            s,
            customer_id=customer.customer_id,
            data=PayeeCreate(
                type="atrium", account_number=other.accounts[0].number, account_name="李雷", nickname="房东"
            ),
        )
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": f"payee:{payee.id}",
        "amount": "5",
    }
    assert "房东" in signed_in.post("/transfer/review", data=data).text
    assert signed_in.post("/transfer/confirm", data=data, follow_redirects=False).status_code == 303
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000 + 500


def test_validation_errors_are_inline_and_keep_the_input(signed_in, customer):
    base = _form(signed_in) | {"from_account_id": customer.accounts[0].id}
    cases = [
        ({"to": "number", "account_number": "", "amount": "1"}, "请输入收款账号"),
        ({"to": "number", "account_number": "12ab", "amount": "1"}, "账号格式不正确"),
        ({"to": "number", "account_number": UNKNOWN_NUMBER, "amount": "1"}, "未找到该账号"),
        ({"to": f"own:{customer.accounts[1].id}", "amount": "1.234"}, "金额格式不正确"),
        ({"to": f"own:{customer.accounts[1].id}", "amount": "0"}, "转账金额必须大于零"),
        ({"to": f"own:{customer.accounts[1].id}", "amount": ""}, "请输入转账金额"),
        ({"to": f"own:{customer.accounts[1].id}", "amount": "99999"}, "可用余额不足，当前可用 ¥12,500.00"),
        ({"to": f"own:{customer.accounts[0].id}", "amount": "1"}, "付款账户和收款账户不能相同"),
        ({"to": "payee:pye_nope", "amount": "1"}, "请选择收款方"),
    ]
    for extra, message in cases:
        r = signed_in.post("/transfer/review", data=base | extra)
        assert r.status_code == 422, extra
        assert message in r.text, (extra, message)
        assert 'aria-invalid="true"' in r.text or 'aria-describedby="err-to"' in r.text
        if extra.get("amount"):
            assert f'value="{extra["amount"]}"' in r.text


def test_someone_elses_account_cannot_be_the_source(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    data = _form(signed_in) | {
        "from_account_id": other.accounts[0].id,
        "to": f"own:{customer.accounts[0].id}",
        "amount": "1",
    }
    r = signed_in.post("/transfer/confirm", data=data)
    assert r.status_code == 422
    assert "请选择付款账户" in r.text
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000


def test_a_limit_refusal_is_translated_inline(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        limits.set_own_limit(
            s,
            customer_id=customer.customer_id,
            method="internal_transfer",
            currency="CNY",
            per_transaction_minor=10_000,
            daily_minor=20_000,
        )
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": "number",
        "account_number": other.accounts[0].number,
        "amount": "150",
    }
    r = signed_in.post("/transfer/confirm", data=data)
    assert r.status_code == 422
    assert "超出您设置的单笔限额，单笔最多 ¥100.00" in r.text
    assert _balance(db, customer.customer_id, customer.accounts[0].id) == 1_250_000
    # English too.
    signed_in.cookies.set("atrium_locale", "en")
    r = signed_in.post("/transfer/confirm", data=data)
    assert "Above your own per-payment limit of CN¥100.00" in r.text


def test_a_switched_off_payment_is_refused_inline(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        limits.set_switches(s, customer_id=customer.customer_id, changes={"online_payments": False})
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": "number",
        "account_number": other.accounts[0].number,
        "amount": "1",
    }
    r = signed_in.post("/transfer/confirm", data=data)
    assert r.status_code == 422
    assert "“线上支付”已关闭" in r.text


def test_edit_returns_to_the_filled_form_with_the_same_key(signed_in, customer):
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": f"own:{customer.accounts[1].id}",
        "amount": "42",
        "memo": "hi",
    }
    r = signed_in.post("/transfer/edit", data=data)
    assert r.status_code == 200
    assert 'value="42"' in r.text and 'value="hi"' in r.text
    assert f'value="{data["idempotency_key"]}"' in r.text


def test_transfer_posts_need_csrf(signed_in, customer):
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": f"own:{customer.accounts[1].id}",
        "amount": "1",
    }
    for path in ("/transfer/review", "/transfer/confirm", "/transfer/edit"):
        assert signed_in.post(path, data=data | {"csrf_token": "x"}).status_code == 403


def test_a_lost_idempotency_key_pays_nothing(signed_in, customer, db):
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": f"own:{customer.accounts[1].id}",
        "amount": "1",
        "idempotency_key": "",
    }
    assert signed_in.post("/transfer/confirm", data=data).status_code == 422
    assert _balance(db, customer.customer_id, customer.accounts[0].id) == 1_250_000


def test_someone_elses_transfer_result_is_404(client, signed_in, customer, db):
    data = _form(signed_in) | {
        "from_account_id": customer.accounts[0].id,
        "to": f"own:{customer.accounts[1].id}",
        "amount": "1",
    }
    location = signed_in.post("/transfer/confirm", data=data, follow_redirects=False).headers["location"]
    from tests.web.mobile.factories import login

    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    signed_in.cookies.clear()
    login(signed_in, other)
    r = signed_in.get(location)
    assert r.status_code == 404 and "找不到该笔转账" in r.text


# --- elder mode: the second confirmation that reads the payee and amount back ---------------------------

_READBACK = re.compile(r'name="readback" value="([0-9a-f]+)"')


def _elder(client) -> None:  # type: ignore[no-untyped-def]
    token = page_token(client, "/settings")
    r = client.post("/display-mode", data={"ui_mode": "elder", "next": "/settings", "csrf_token": token})
    assert 'class="mode-elder"' in r.text


def _to_payee(db, customer):  # type: ignore[no-untyped-def]
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    with db.unit_of_work() as s:
        payee = payments.save_payee(
            s,
            customer_id=customer.customer_id,
            data=PayeeCreate(
                type="atrium", account_number=other.accounts[0].number, account_name="李雷", nickname="房东"
            ),
        )
    return other, payee


def test_elder_confirmation_reads_payee_and_amount_back_in_words(signed_in, customer, db):
    _, payee = _to_payee(db, customer)
    _elder(signed_in)
    data = _form(signed_in) | {"from_account_id": customer.accounts[0].id, "to": f"payee:{payee.id}",
                               "amount": "1050.50"}
    review = signed_in.post("/transfer/review", data=data)
    assert review.status_code == 200
    assert "您要向“房东”转账 ¥1,050.50，大写：人民币壹仟零伍拾元伍角。" in review.text
    assert "我已核对，收款人和金额都正确" in review.text
    assert _READBACK.search(review.text)
    assert 'type="checkbox" name="readback"' in review.text and "required" in review.text


def test_elder_confirm_without_the_tick_sends_nothing_and_says_why(signed_in, customer, db):
    other, payee = _to_payee(db, customer)
    _elder(signed_in)
    data = _form(signed_in) | {"from_account_id": customer.accounts[0].id, "to": f"payee:{payee.id}",
                               "amount": "100"}
    refused = signed_in.post("/transfer/confirm", data=data, follow_redirects=False)
    assert refused.status_code == 422
    assert "请先核对收款人和金额，勾选“我已核对”后再确认。" in refused.text
    assert "人民币壹佰元整" in refused.text  # the read-back is shown again, to be ticked
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000
    with db.read_session() as s:
        assert payments.list_transfers(s, customer_id=customer.customer_id).items == []


def test_elder_confirm_with_a_tick_for_other_details_sends_nothing(signed_in, customer, db):
    other, payee = _to_payee(db, customer)
    _elder(signed_in)
    data = _form(signed_in) | {"from_account_id": customer.accounts[0].id, "to": f"payee:{payee.id}",
                               "amount": "100"}
    tick = _READBACK.search(signed_in.post("/transfer/review", data=data).text).group(1)
    changed = signed_in.post("/transfer/confirm", data=data | {"amount": "1000", "readback": tick},
                             follow_redirects=False)
    assert changed.status_code == 422
    assert "金额或收款人有变化，请重新核对后再勾选。" in changed.text and "人民币壹仟元整" in changed.text
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000
    done = signed_in.post("/transfer/confirm", data=data | {"readback": tick}, follow_redirects=False)
    assert done.status_code == 303
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000 + 10_000
    assert "钱已经转过去了" in signed_in.get(done.headers["location"]).text


def test_standard_mode_needs_no_tick(signed_in, customer, db):
    other, payee = _to_payee(db, customer)
    data = _form(signed_in) | {"from_account_id": customer.accounts[0].id, "to": f"payee:{payee.id}",
                               "amount": "100"}
    review = signed_in.post("/transfer/review", data=data)
    assert 'name="readback"' not in review.text and "大写" not in review.text
    assert signed_in.post("/transfer/confirm", data=data, follow_redirects=False).status_code == 303
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000 + 10_000


def test_elder_tick_survives_the_step_up_of_a_large_transfer(signed_in, customer, db):
    other = seed_customer(db, username="li", display_name="李雷", savings=False)
    _elder(signed_in)
    data = _form(signed_in) | {"from_account_id": customer.accounts[0].id, "to": "number",
                               "account_number": other.accounts[0].number, "amount": "6000"}
    review = signed_in.post("/transfer/review", data=data)
    assert "人民币陆仟元整" in review.text
    tick = _READBACK.search(review.text).group(1)
    confirm = data | {"readback": tick, "csrf_token": csrf_from(review.text)}
    asked = signed_in.post("/transfer/confirm", data=confirm, follow_redirects=False)
    done = complete_step_up(signed_in, asked, customer.phone)
    assert done.status_code == 303, done.text
    assert _balance(db, other.customer_id, other.accounts[0].id) == 1_250_000 + 600_000
