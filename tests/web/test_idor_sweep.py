"""The IDOR sweep: customer A, with a valid two-factor session, calls every customer route that names an
object in its path with the id of customer B's object of that kind — B's account, transfer, payee, order,
device, passkey, session, identity, inbox message and push subscription. Every call must answer 404 (as
for an id that does not exist, so ids cannot be probed) and leave B's objects as they were. A new customer
route with an object parameter the sweep does not know fails the coverage test."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atrium.accounts import service as accounts
from atrium.app import create_app
from atrium.identity import identities, sessions
from atrium.identity import service as identity
from atrium.identity.devices import service as devices
from atrium.identity.passkeys.models import PasskeyCredential
from atrium.kit import clock
from atrium.messages import service as messages
from atrium.messages.domain import Money
from atrium.notify import service as notify
from atrium.payments import service as payments
from atrium.payments.orders import service as orders
from atrium.payments.orders.schemas import OrderCreate
from atrium.payments.schemas import OwnDestination, PayeeCreate
from atrium.web import access
from atrium.web.mobile import csrf
from tests.identity.devices.keys import SoftDevice
from tests.web.mobile.factories import deposit
from tests.web.test_routes_auth import endpoints

# Path parameters that do not name a customer's object (a limit method, a switch or profile field name,
# a merchant's public face).
NOT_OBJECTS = {"method", "name", "merchant_id", "key"}  # key: a catalogue service key, the same for all
PARAM = re.compile(r"{([^}:]+)}")
NONCE = "idor-csrf-nonce"


@pytest.fixture()
def world(db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        a = identity.create_customer(
            s, username="alice", password="alice password 1", display_name="A", phone="+8613800000011"
        ).id
        b = identity.create_customer(
            s, username="bob", password="bob password 12", display_name="B", phone="+8613800000022"
        ).id
        a_acc = accounts.open_account(s, customer_id=a, product="current", currency="CNY")
        b_acc = accounts.open_account(s, customer_id=b, product="current", currency="CNY")
        b_sav = accounts.open_account(s, customer_id=b, product="savings", currency="CNY")
    deposit(db, b_acc, 10_000_00)
    with db.unit_of_work() as s:
        transfer = payments.transfer(
            s,
            customer_id=b,
            idempotency_key="idor-transfer-1",
            from_account_id=b_acc.id,
            to=OwnDestination(type="own", account_id=b_sav.id),
            amount_minor=100_00,
            currency="CNY",
            channel="mobile",
        )
        payee = payments.save_payee(
            s, customer_id=b, data=PayeeCreate(type="atrium", account_number=a_acc.number, account_name="A")
        )
        order = orders.create_order(
            s,
            customer_id=b,
            idempotency_key="idor-order-1",
            data=OrderCreate(
                from_account_id=b_acc.id,
                to=OwnDestination(type="own", account_id=b_sav.id),
                amount_minor=10_00,
                currency="CNY",
                frequency="monthly",
                start_on=(clock.now() + timedelta(days=3)).date(),
            ),
        )
        device = devices.register_device(
            s, customer_id=b, public_key=SoftDevice().public_key, name="B's phone", user_agent=""
        )
        company = identities.add_identity(
            s,
            customer_id=b,
            kind="company_operator",
            org_name="B Co",
            org_ref="91310000MA1FL0002X",
            role="finance",
        )
        s.add(PasskeyCredential(id="b-passkey-credential", customer_id=b, public_key=b"\x01", name="B's key"))
        _, b_session = sessions.open_session(s, customer_id=b, amr=["pwd", "sms"])
        message = messages.send_templated(
            s, customer_id=b, template_key="transfer.received", dedup_key="idor-message-1",
            values={"amount": Money(1_00, "CNY"), "account": "0001", "account_id": b_acc.id},
        )
        subscription = notify.subscribe_push(
            s, customer_id=b, endpoint="https://push.example.net/idor", p256dh="B" + "A" * 86, auth="A" * 22
        )
    return {
        "a": a,
        "b": b,
        "ids": {
            "account_id": b_acc.id,
            "transfer_id": transfer.id,
            "payee_id": payee.id,
            "order_id": order.id,
            "device_id": device.id,
            "identity_id": company.id,
            "credential_id": "b-passkey-credential",
            "sid": b_session.sid,
            "message_id": message.id,
            "subscription_id": subscription.id,
        },
    }


def _object_routes() -> list[tuple[str, str, list[str]]]:
    out = []
    for e in endpoints(create_app(start_background=False)):
        if access.ACCESS.get(e.key) != access.CUSTOMER:
            continue
        params = [p for p in PARAM.findall(e.path) if p not in NOT_OBJECTS]
        if params:
            out.append((e.method, e.path, params))
    return sorted(out)


def test_the_sweep_knows_every_object_parameter(world) -> None:  # type: ignore[no-untyped-def]
    unknown = {p for _, _, params in _object_routes() for p in params} - world["ids"].keys()
    assert not unknown, f"customer routes name objects the IDOR sweep does not create: {unknown}"


def test_customer_a_never_reaches_customer_b_s_objects(db, world) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(create_app(start_background=False), base_url="http://localhost")
    wrong = []
    routes = _object_routes()
    assert len(routes) >= 20, routes
    for method, path, _ in routes:
        with db.unit_of_work() as s:
            token, _ = sessions.open_session(s, customer_id=world["a"], amr=["pwd", "sms"])
        url = PARAM.sub(
            lambda m: world["ids"].get(m.group(1), "own_transfer" if m.group(1) == "method" else "x"), path
        )
        client.cookies.clear()
        headers = {"Idempotency-Key": "idor-key-00001"}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {token}"
            body = {"name": "mine"} if "/devices/" in path else {"nickname": "mine"}
            kwargs: dict[str, Any] = {"json": body} if method == "PATCH" else {}
        else:
            client.cookies.set(csrf.CSRF_COOKIE, NONCE)
            client.cookies.set("atrium_session", token)
            form = {
                csrf.CSRF_FIELD: csrf._sign(NONCE, token),
                "name": "mine",
                "code": "123456",
                "step_up": "x",
            }
            kwargs = {"data": form} if method != "GET" else {"params": {"cursor": "x"}}
        r = client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
        if r.status_code != 404:
            wrong.append(f"{method} {url}: {r.status_code} {r.text[:160]}")
    assert not wrong, "\n".join(wrong)
    # And B's objects are as they were.
    ids = world["ids"]
    with db.read_session() as s:
        assert accounts.get_owned(s, customer_id=world["b"], account_id=ids["account_id"]).status == "open"
        assert [p.id for p in payments.list_payees(s, customer_id=world["b"])] == [ids["payee_id"]]
        assert orders.get_order(s, customer_id=world["b"], order_id=ids["order_id"]).status == "active"
        assert devices.get_device(s, world["b"], ids["device_id"]).revoked_at is None
        assert sessions.is_active(s, ids["sid"])
        assert s.get(PasskeyCredential, ids["credential_id"]) is not None
        assert messages.get_message(s, world["b"], ids["message_id"]).read_at is None
        assert [p.id for p in notify.push_subscriptions(s, world["b"])] == [ids["subscription_id"]]
