""""This wasn't me" on a QR payment's challenge in the app: the step-up page offers it with the confirmation's
own fields, posting it (CSRF-checked) stops that very payment and reports it, and the result page says so
in Chinese and English; the confirmed form can never pay it afterwards."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from atrium.events.relay import relay_once
from atrium.messages import service as messages
from atrium.risk import service as risk
from tests.payments import risk_support as rs
from tests.web.mobile.factories import csrf_from, form_fields, login, page_token, qr_code

pytestmark = pytest.mark.usefixtures("fresh_risk")

NOT_ME = "/pay/qr/not-me"


@pytest.fixture()
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def challenged(db) -> None:  # type: ignore[no-untyped-def]
    rs.publish_rule(db, "qr_over_ten", "amount > 10", "challenge", reason="behaviour.unusual_amount")


def confirm(client, payload: str, amount: str = ""):  # type: ignore[no-untyped-def]
    """Review the pasted code and confirm it from the preselected account (typing `amount` for a code
    without one); the posted fields and the answer to the confirm post."""
    review = client.post(
        "/pay/qr/review", data={"payload": payload, "csrf_token": page_token(client, "/pay/qr")}
    )
    assert review.status_code == 200, review.text
    fields = {k: html.unescape(v)
              for k, v in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', review.text)}
    account = re.search(r'name="from_account_id" value="([^"]+)" checked', review.text)
    assert account is not None
    fields["from_account_id"] = account.group(1)
    if amount:
        fields["amount"] = amount
    return fields, client.post("/pay/qr/confirm", data=fields, follow_redirects=False)


def test_the_challenge_offers_this_wasnt_me_with_the_qr_forms_fields(signed_in, db, challenged):
    posted, page = confirm(signed_in, qr_code(db))
    assert page.status_code == 401, page.text
    assert "这是您本人的操作吗？" in page.text and f'action="{NOT_ME}"' in page.text
    assert "不是我本人 — 停止这笔付款" in page.text
    # The scam warning is a QR payment's (a code someone sent), not a transfer's (a new account).
    assert "骗子常把付款码伪装成退款" in page.text and "新账户" not in page.text
    fields = form_fields(page.text, NOT_ME)
    for name in ("payload", "idempotency_key", "from_account_id"):
        assert fields[name] == posted[name], name
    # The page's own CSRF token (bound to this session), never the confirmation's carried one or a challenge.
    assert fields["csrf_token"] == csrf_from(page.text) and "step_up" not in fields


def test_this_wasnt_me_stops_the_qr_payment_and_reports_it(signed_in, customer, db, challenged):
    posted, page = confirm(signed_in, qr_code(db))
    fields = form_fields(page.text, NOT_ME) | {"csrf_token": csrf_from(page.text)}
    stopped = signed_in.post(NOT_ME, data=fields, follow_redirects=False)
    assert stopped.status_code == 303, stopped.text
    assert stopped.headers["location"].startswith("/transfer/result/trf_")
    result = signed_in.get(stopped.headers["location"])
    assert "付款已停止" in result.text and "不是您本人操作" in result.text and "¥42.50" in result.text
    assert "您的账户没有扣款" in result.text and 'href="/pay/qr"' in result.text
    [decision] = rs.decisions(db, channel="qr")
    assert decision.challenge_result == "disowned" and decision.customer_id == customer.customer_id
    with db.read_session() as s:
        assert [label.fraud for label in risk.labels_of(s, decision.id)] == [True]
    # The form cannot pay it afterwards: confirming it again answers the stopped payment.
    again = signed_in.post("/pay/qr/confirm", data=posted, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == stopped.headers["location"]
    assert rs.transfers_count(db) == 1
    relay_once(db)
    with db.read_session() as s:
        inbox = messages.list_messages(s, customer_id=customer.customer_id).items
    assert any(m.title == "异常活动提醒" for m in inbox)


def test_an_open_amount_code_is_stopped_for_the_typed_amount_and_the_result_reads_in_english(
    client, customer, db, challenged
):
    client.cookies.set("atrium_locale", "en")
    login(client, customer)
    _, page = confirm(client, qr_code(db, amount_minor=None, name="Market stall"), amount="18.80")
    assert page.status_code == 401, page.text
    assert "Scammers send payment codes dressed up as a refund" in html.unescape(page.text)
    fields = form_fields(page.text, NOT_ME)
    assert fields["amount"] == "18.80"
    stopped = client.post(NOT_ME, data=fields | {"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert stopped.status_code == 303, stopped.text
    result = html.unescape(client.get(stopped.headers["location"]).text)
    assert "Payment stopped" in result and "¥18.80" in result
    assert "You told us you didn't make this payment. We stopped it and told our security team" in result
    [t] = [rs.transfer_row(db, stopped.headers["location"].rsplit("/", 1)[1])]
    assert (t.kind, t.status, t.failure_code, t.amount_minor) == ("qr", "cancelled", "not-me", 1_880)


def test_this_wasnt_me_needs_the_pages_csrf_token(signed_in, db, challenged):
    _, page = confirm(signed_in, qr_code(db))
    fields = {k: v for k, v in form_fields(page.text, NOT_ME).items() if k != "csrf_token"}
    refused = signed_in.post(NOT_ME, data=fields, follow_redirects=False)
    assert refused.status_code == 403
    forged = signed_in.post(NOT_ME, data=fields | {"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert rs.transfers_count(db) == 0
    assert all(d.challenge_result is None for d in rs.decisions(db, channel="qr"))


def test_a_tampered_or_keyless_form_is_refused_without_paying(signed_in, db, challenged):
    _, page = confirm(signed_in, qr_code(db))
    fields = form_fields(page.text, NOT_ME)
    token = csrf_from(page.text)
    bad_code = signed_in.post(NOT_ME, data=fields | {"payload": "ATRQR1.bogus.bogus", "csrf_token": token},
                              follow_redirects=False)
    assert bad_code.status_code == 422 and "qr" in bad_code.text.lower()
    keyless = signed_in.post(NOT_ME, data=fields | {"idempotency_key": "", "csrf_token": token},
                             follow_redirects=False)
    assert keyless.status_code == 422
    assert rs.transfers_count(db) == 0
