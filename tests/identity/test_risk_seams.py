"""Identity's risk seams: sign-in assessors (deny refuses, a challenge asks for the second factor or keeps
a new device untrusted), step-up opinions (deny refuses, reasons travel in the challenge), and risk's own
assessors installed through them (`atrium.risk.seams`), driven by list entries and published rules."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from atrium.identity import login, service, stepup
from atrium.identity.errors import ActionRefused, StepUpRequired
from atrium.identity.principal import Principal
from atrium.risk import seams
from atrium.risk import service as risk
from atrium.risk.schemas import ListEntryCreate
from tests.auth_support import last_code, phone_for
from tests.payments import risk_support as rs

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_risk(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    rs.budget(monkeypatch, rs.GENEROUS_MS)
    with rs.fresh():
        yield


@pytest.fixture()
def risk_seams() -> Iterator[None]:
    seams.install()
    yield
    seams.uninstall()


def _customer(db, username: str = "mei", *, phone: bool = True) -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.create_customer(s, username=username, password=PASSWORD, display_name="王美",
                                       phone=phone_for(username) if phone else None).id


def _device_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, base64.b64encode(spki).decode()


def _sign_raw(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def _second_factor(client, ticket: str, phone: str):  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/auth/login/second-factor/sms", json={"ticket": ticket}).status_code == 200
    return client.post("/api/v1/auth/login/second-factor",
                       json={"ticket": ticket, "method": "sms", "code": last_code(phone)})


def _password(client, public_key: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The password step, offering a new device key."""
    return client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD,  # type: ignore[no-any-return]
                                                   "device": {"public_key": public_key}}).json()


def _bind_device(client) -> tuple[ec.EllipticCurvePrivateKey, str]:  # type: ignore[no-untyped-def]
    key, public = _device_key()
    first = _password(client, public)
    bound = _second_factor(client, first["ticket"], phone_for("mei")).json()
    assert bound["device_id"]
    return key, bound["device_id"]


def _device_sign_in(client, key, device_id: str):  # type: ignore[no-untyped-def]
    nonce = client.get("/api/v1/auth/device-nonce").json()["nonce"]
    proof = {"device_id": device_id, "nonce": nonce, "signature": _sign_raw(key, nonce.encode())}
    return client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD, "device": proof})


@pytest.fixture()
def opinion() -> Iterator[list[stepup.RiskOpinion | None]]:
    """A sign-in assessor answering whatever the test puts in the list (and recording what it saw)."""
    answer: list[stepup.RiskOpinion | None] = [None]
    seen: list[login.SignInAttempt] = []

    def assessor(session, attempt):  # type: ignore[no-untyped-def]
        seen.append(attempt)
        return answer[0]

    remove = login.register_sign_in_assessor(assessor)
    answer.append(seen)  # type: ignore[arg-type]
    yield answer
    remove()


# --- the seams themselves -----------------------------------------------------------------------------------


def test_a_denied_sign_in_is_refused_with_no_reason_given(client, db, opinion) -> None:
    _customer(db, "nophone", phone=False)
    opinion[0] = stepup.RiskOpinion(level=3, reasons=("list.block.ip",), deny=True)
    r = client.post("/api/v1/auth/login", json={"username": "nophone", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["type"].endswith("/sign-in-refused")
    assert "list" not in r.text and "token" not in r.json()


def test_a_challenge_on_a_trusted_device_asks_for_the_second_factor(client, db, opinion) -> None:
    _customer(db)
    key, device_id = _bind_device(client)
    assert _device_sign_in(client, key, device_id).json()["status"] == "signed-in"
    opinion[0] = stepup.RiskOpinion(level=3, reasons=("behaviour.unusual_location",))
    r = _device_sign_in(client, key, device_id)
    assert r.status_code == 200 and r.json()["status"] == "second-factor-required"
    seen = opinion[1]
    assert seen[-1].method == "pwd+hwk" and seen[-1].device_id == device_id  # type: ignore[union-attr]


def test_a_challenge_at_the_second_factor_leaves_a_new_device_untrusted(client, db, opinion) -> None:
    _customer(db)
    opinion[0] = stepup.RiskOpinion(level=3, reasons=("behaviour.new_device",))
    _, public = _device_key()
    first = _password(client, public)
    done = _second_factor(client, first["ticket"], phone_for("mei"))
    assert done.status_code == 200 and done.json()["loa"] == 2
    assert done.json().get("device_id") is None  # signed in, but the new key is not bound
    assert opinion[1][-1].new_device  # type: ignore[union-attr]


def test_a_risk_opinion_refuses_an_action_or_puts_its_reasons_in_the_challenge(db) -> None:
    customer_id = _customer(db)
    who = Principal(kind="customer", id=customer_id, sid="sid_test", loa=2)
    with db.session() as s:
        with pytest.raises(ActionRefused) as refused:
            stepup.require(s, who, action="transfer", elements={"payee": "x"},
                           opinion=stepup.RiskOpinion(level=3, reasons=("list.block.payee",), deny=True))
        assert refused.value.extra["reasons"] == ["list.block.payee"]
        with pytest.raises(StepUpRequired) as asked:
            stepup.require(s, who, action="transfer", elements={"payee": "x"},
                           opinion=stepup.RiskOpinion(level=3, reasons=("behaviour.new_payee",)))
        assert asked.value.extra["level"] == 3 and asked.value.extra["reasons"] == ["behaviour.new_payee"]
        challenge = stepup.read_challenge(who, asked.value.extra["challenge"])
        assert challenge.reasons == ("behaviour.new_payee",)
        # Without an opinion the same action needs only the level-2 session it has.
        stepup.require(s, who, action="transfer", elements={"payee": "x"})
        s.rollback()


# --- risk's assessors, installed ------------------------------------------------------------------------


def test_a_block_listed_device_cannot_sign_in(client, db, risk_seams) -> None:
    _customer(db)
    key, device_id = _bind_device(client)
    with db.unit_of_work() as s:
        risk.add_entry(s, ListEntryCreate(list_kind="block", subject_kind="device", value=device_id,
                                          reason="reported stolen"), rs.CHECKER)
    r = _device_sign_in(client, key, device_id)
    assert r.status_code == 401 and r.json()["type"].endswith("/sign-in-refused")
    # The binding sign-in was decided on the device channel and allowed; the refusal rolled back with
    # the sign-in, and the device stays refused.
    assert [d.outcome for d in rs.decisions(db, channel="device")] == ["allow"]
    assert _device_sign_in(client, key, device_id).status_code == 401


def test_a_device_rule_keeps_a_new_device_untrusted_until_proven(client, db, risk_seams) -> None:
    _customer(db)
    rs.publish_rule(db, "new_device_binding", 'channel == "device"', "challenge",
                    reason="behaviour.new_device")
    _, public = _device_key()
    first = _password(client, public)
    done = _second_factor(client, first["ticket"], phone_for("mei"))
    assert done.status_code == 200 and done.json().get("device_id") is None
    [decision] = rs.decisions(db, channel="device")
    assert decision.outcome == "challenge"
    assert [r["code"] for r in decision.reasons] == ["behaviour.new_device"]


def test_saving_a_block_listed_payee_is_refused(client, db, risk_seams) -> None:
    _customer(db)
    first = client.post("/api/v1/auth/login", json={"username": "mei", "password": PASSWORD}).json()
    token = _second_factor(client, first["ticket"], phone_for("mei")).json()["token"]
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    number = "6222020200112233445"
    rs.block_payee(db, f"JRCB:{number}")
    r = client.post("/api/v1/payees", headers=headers, json={
        "type": "external", "bank_code": "JRCB", "account_number": number, "account_name": "张三"})
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/action-refused") and r.json()["reasons"] == ["list.block"]
    assert [d.outcome for d in rs.decisions(db, channel="payee")] == []  # refused: the request rolled back
