"""The transfer pages and the security checks: a challenge is the step-up page asking "was this you?" with
reasons a customer can read (and "this wasn't me", which stops and reports the payment); a held payment
ends on "being checked — we'll message you"; a declined one says why; the history shows each status."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from atrium.events.relay import relay_once
from atrium.messages import service as messages
from atrium.risk import service as risk
from atrium.risk.domain import reasons
from tests.payments import risk_support as rs
from tests.web.mobile.factories import complete_step_up, csrf_from, form_fields, seed_customer

pytestmark = pytest.mark.usefixtures("fresh_risk")


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def payee(db):  # type: ignore[no-untyped-def]
    return seed_customer(db, username="li", display_name="李雷", savings=False, balance_minor=0)


def confirm(client, customer, payee, amount: str) -> tuple[dict[str, str], object]:  # type: ignore[no-untyped-def]
    """Fill the form for `amount` to `payee`'s account number, review it and confirm; returns the posted
    fields and the answer to the confirm post."""
    html = client.get("/transfer").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf_from(html), "idempotency_key": key, "from_account_id": customer.accounts[0].id,
            "to": "number", "account_number": payee.accounts[0].number, "amount": amount, "memo": "房租"}
    review = client.post("/transfer/review", data=data)
    assert review.status_code == 200, review.text
    data["csrf_token"] = csrf_from(review.text)
    return data, client.post("/transfer/confirm", data=data, follow_redirects=False)


def test_a_challenge_asks_was_this_you_with_reasons_then_pays_once(signed_in, customer, payee, db):
    rs.publish_rule(db, "new_payee", rs.CHALLENGE_NEW_PAYEE, "challenge", reason="behaviour.new_payee")
    _, page = confirm(signed_in, customer, payee, "2,000")
    assert page.status_code == 401
    assert "这是您本人的操作吗？" in page.text
    assert reasons.text("behaviour.new_payee", "zh", channel="transfer") in page.text
    assert "骗子常冒充银行" in page.text and 'action="/transfer/not-me"' in page.text
    done = complete_step_up(signed_in, page, customer.phone)
    assert done.status_code == 303, done.text
    result = signed_in.get(done.headers["location"])
    assert "转账成功" in result.text and "¥2,000.00" in result.text
    # Posting the confirmed form once more (back button, double tap): the same transfer, not a second one.
    assert rs.transfers_count(db) == 1


def test_this_wasnt_me_stops_the_payment_and_reports_it(signed_in, customer, payee, db):
    rs.publish_rule(db, "new_payee", rs.CHALLENGE_NEW_PAYEE, "challenge", reason="behaviour.new_payee")
    posted, page = confirm(signed_in, customer, payee, "2,000")
    fields = form_fields(page.text, "/transfer/not-me")
    assert fields["idempotency_key"] == posted["idempotency_key"]
    stopped = signed_in.post("/transfer/not-me", data=fields | {"csrf_token": csrf_from(page.text)},
                             follow_redirects=False)
    assert stopped.status_code == 303, stopped.text
    result = signed_in.get(stopped.headers["location"])
    assert "付款已停止" in result.text and "不是您本人操作" in result.text
    [decision] = rs.decisions(db, channel="transfer")
    assert decision.challenge_result == "disowned"
    with db.read_session() as s:
        assert [label.fraud for label in risk.labels_of(s, decision.id)] == [True]
    # The form cannot pay it afterwards: confirming it again answers the stopped transfer.
    again = signed_in.post("/transfer/confirm", data=posted, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == stopped.headers["location"]
    assert rs.transfers_count(db) == 1
    relay_once(db)
    with db.read_session() as s:
        inbox = messages.list_messages(s, customer_id=customer.customer_id).items
    assert any(m.title == "异常活动提醒" for m in inbox)


def test_a_held_payment_says_being_checked_and_the_history_shows_it(signed_in, customer, payee, db):
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    _, done = confirm(signed_in, customer, payee, "4,000")
    assert done.status_code == 303, done.text
    result = signed_in.get(done.headers["location"])
    assert "付款正在安全审核" in result.text and "审核完成后我们会通知您" in result.text
    history = signed_in.get("/transfers")
    assert history.status_code == 200 and "审核中 — 完成后通知您" in history.text
    relay_once(db)
    with db.read_session() as s:
        inbox = messages.list_messages(s, customer_id=customer.customer_id).items
    assert [m.title for m in inbox] == ["付款正在安全审核"]


def test_a_declined_payment_says_why_in_the_customers_language(client, customer, payee, db):
    from tests.web.mobile.factories import login

    rs.block_payee(db, rs.atrium_payee(payee.accounts[0].number))
    client.cookies.set("atrium_locale", "en")
    login(client, customer)
    _, done = confirm(client, customer, payee, "300")
    assert done.status_code == 303, done.text
    result = html.unescape(client.get(done.headers["location"]).text)
    assert "Payment declined" in result
    assert reasons.text("list.block.payee", "en", channel="transfer") in result
    assert "No money left your account." in result
    assert payee.accounts[0].number not in result  # the list entry is never shown
    assert "Declined" in client.get("/transfers").text


def test_a_held_payment_stopped_by_the_analyst_is_explained_in_the_inbox_and_on_its_page(
    signed_in, customer, payee, db
):
    rs.publish_rule(db, "large_amount", rs.REVIEW_LARGE, "review")
    _, done = confirm(signed_in, customer, payee, "4,000")
    transfer_id = done.headers["location"].rsplit("/", 1)[1]
    decision_id = rs.transfer_row(db, transfer_id).risk_decision_id
    with db.unit_of_work() as s:
        risk.confirm_fraud(s, rs.case_for(db, decision_id).id, rs.CHECKER, note="mule account")  # type: ignore[arg-type]
    relay_once(db)
    result = signed_in.get(done.headers["location"]).text
    assert "付款已停止" in result and "我们的安全团队已拦截这笔付款" in result
    with db.read_session() as s:
        inbox = messages.list_messages(s, customer_id=customer.customer_id).items
    # One message per step of the payment; the review's own alert is not repeated to the payer.
    assert [m.title for m in inbox] == ["付款已被拦截", "付款正在安全审核"]
    assert "已停止" in signed_in.get("/transfers").text
