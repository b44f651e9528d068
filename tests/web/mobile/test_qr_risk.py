"""QR pay in the app and the security checks: the payment is screened with the signed-in customer's device
and IP, so a challenge is the step-up page asking "was this you?" (the confirmed form then pays once)
rather than a hold; a held or declined payment ends on the result page, which says why."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from atrium.risk.domain import reasons
from tests.payments import risk_support as rs
from tests.web.mobile.factories import complete_step_up, page_token, qr_code

pytestmark = pytest.mark.usefixtures("fresh_risk")


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


def confirm(client, payload: str):  # type: ignore[no-untyped-def]
    """Review the pasted code and confirm it from the preselected account; the answer to the confirm post."""
    review = client.post(
        "/pay/qr/review", data={"payload": payload, "csrf_token": page_token(client, "/pay/qr")}
    )
    assert review.status_code == 200, review.text
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', review.text))
    account = re.search(r'name="from_account_id" value="([^"]+)" checked', review.text)
    assert account is not None
    return client.post(
        "/pay/qr/confirm", data=fields | {"from_account_id": account.group(1)}, follow_redirects=False
    )


def test_a_challenge_asks_was_this_you_then_pays_once_screened_with_device_and_ip(signed_in, customer, db):
    rs.publish_rule(db, "qr_over_ten", "amount > 10", "challenge", reason="behaviour.unusual_amount")
    page = confirm(signed_in, qr_code(db))
    assert page.status_code == 401, page.text  # not a hold: the customer is there to answer
    assert "这是您本人的操作吗？" in page.text
    assert reasons.text("behaviour.unusual_amount", "zh", channel="qr") in page.text
    done = complete_step_up(signed_in, page, customer.phone)
    assert done.status_code == 303, done.text
    result = signed_in.get(done.headers["location"])
    assert "付款成功" in result.text and "¥42.50" in result.text
    assert rs.transfers_count(db) == 1
    [decision] = rs.decisions(db, channel="qr")
    assert (decision.outcome, decision.challenge_result) == ("challenge", "passed")
    assert decision.customer_id == customer.customer_id
    assert decision.ip is not None  # the client's IP (its keyed hash), as a transfer's decision has it


def test_a_held_qr_payment_says_being_checked(signed_in, db):
    rs.publish_rule(db, "qr_review", "amount > 10", "review")
    done = confirm(signed_in, qr_code(db))
    assert done.status_code == 303, done.text
    result = signed_in.get(done.headers["location"])
    assert "审核完成后我们会通知您" in result.text


def test_a_declined_qr_payment_says_why(signed_in, db):
    rs.publish_rule(db, "qr_deny", "amount > 10", "deny", reason="behaviour.unusual_amount")
    done = confirm(signed_in, qr_code(db))
    assert done.status_code == 303, done.text
    result = signed_in.get(done.headers["location"])
    assert reasons.text("behaviour.unusual_amount", "zh", channel="qr") in result.text
