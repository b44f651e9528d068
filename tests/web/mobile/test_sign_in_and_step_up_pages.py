"""The sign-in pages (password → SMS second factor; SMS-code sign-in) and the step-up page that a large
transfer meets, driven as a browser would (form posts with CSRF tokens)."""

from __future__ import annotations

import re

from atrium.accounts import service as accounts
from atrium.identity import service as identity
from tests.auth_support import last_code, phone_for
from tests.web.mobile.factories import csrf_from, deposit

PASSWORD = "correct horse battery"


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


def _customer(db, username: str, balance: int = 0):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        c = identity.create_customer(
            s, username=username, password=PASSWORD, display_name="王美", phone=phone_for(username)
        )
        account = accounts.open_account(s, customer_id=c.id, product="current", currency="CNY")
    if balance:
        deposit(db, account, balance)
    return c.id, account


def _sign_in(client, username: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": "/"},
    )
    assert r.status_code == 200 and "login/verify" in r.text, "a new device is asked for a second factor"
    fields = {k: _hidden(r.text, k) for k in ("ticket", "methods", "phone_masked")} | {"next": "/"}
    sent = client.post("/login/verify/send", data={**fields, "csrf_token": csrf_from(r.text)})
    assert sent.status_code == 200 and "138****" in sent.text
    done = client.post(
        "/login/verify",
        data={
            **fields,
            "method": "sms",
            "code": last_code(phone_for(username)),
            "csrf_token": csrf_from(sent.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"


def test_password_then_sms_code_signs_in(client, db):
    _customer(db, "mei")
    _sign_in(client, "mei")
    assert client.get("/").status_code == 200


def test_a_wrong_second_factor_code_stays_on_the_page(client, db):
    _customer(db, "mei")
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": "mei", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    fields = {k: _hidden(r.text, k) for k in ("ticket", "methods", "phone_masked")} | {"next": "/"}
    client.post("/login/verify/send", data={**fields, "csrf_token": csrf_from(r.text)})
    bad = client.post(
        "/login/verify", data={**fields, "method": "sms", "code": "000000", "csrf_token": csrf_from(r.text)}
    )
    assert bad.status_code == 401 and 'role="alert"' in bad.text
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_sms_code_sign_in_page(client, db):
    _customer(db, "mei")
    page = client.get("/login?method=sms")
    sent = client.post(
        "/login/sms/send", data={"phone": phone_for("mei")[3:], "csrf_token": csrf_from(page.text)}
    )
    assert sent.status_code == 200 and 'name="code"' in sent.text
    done = client.post(
        "/login/sms",
        data={
            "phone": phone_for("mei")[3:],
            "code": last_code(phone_for("mei")),
            "csrf_token": csrf_from(sent.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303


def test_a_large_transfer_asks_for_a_second_factor_then_pays_once(client, db):
    _, source = _customer(db, "mei", balance=20_000_00)
    other_id, target = _customer(db, "lei")
    _sign_in(client, "mei")
    form = client.get("/transfer").text
    data = {
        "csrf_token": csrf_from(form),
        "idempotency_key": _hidden(form, "idempotency_key"),
        "from_account_id": source.id,
        "to": "number",
        "account_number": target.number,
        "amount": "6000",
    }
    confirm = client.post("/transfer/confirm", data=data)
    assert confirm.status_code == 401
    assert "stepup" in confirm.text or "安全验证" in confirm.text
    assert "6,000.00" in confirm.text, "the challenge page says what is being confirmed"
    challenge = _hidden(confirm.text, "challenge")
    carried = dict(re.findall(r'name="(carry\.[^"]+)" value="([^"]*)"', confirm.text))
    assert carried["carry.amount"] == "6000" and "carry.csrf_token" not in carried
    base = {"challenge": challenge, "return_to": "/transfer/confirm", **carried}
    sent = client.post("/step-up/send", data={**base, "csrf_token": csrf_from(confirm.text)})
    assert sent.status_code == 200
    verified = client.post(
        "/step-up/verify",
        data={
            **base,
            "method": "sms",
            "code": last_code(phone_for("mei")),
            "csrf_token": csrf_from(sent.text),
        },
    )
    assert verified.status_code == 200 and "data-auto-submit" in verified.text
    again = dict(
        re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
            verified.text.split("data-auto-submit", 1)[1].split("</form>", 1)[0],
        )
    )
    assert again["step_up"] == challenge and again["amount"] == "6000"
    paid = client.post("/transfer/confirm", data=again, follow_redirects=False)
    assert paid.status_code == 303 and paid.headers["location"].startswith("/transfer/result/")
    twice = client.post("/transfer/confirm", data=again, follow_redirects=False)
    assert twice.headers["location"] == paid.headers["location"], "the same form pays once"
    with db.read_session() as s:
        assert accounts.get_owned(s, customer_id=other_id, account_id=target.id).available_minor == 6_000_00


def test_the_security_centre_lists_every_control(client, db):
    _customer(db, "mei")
    _sign_in(client, "mei")
    html = client.get("/security").text
    for href in (
        "/limits",
        "/security/devices",
        "/security/sessions",
        "/security/history",
        "/security/passkeys",
        "/security/totp",
        "/security/password",
        "/profile",
        "/phishing-check",
    ):
        assert f'href="{href}"' in html
    assert "138****" in html
