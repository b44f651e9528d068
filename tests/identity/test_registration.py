"""Self-registration: the code to an unregistered phone (and the warning to a registered one, answered
alike), the phone ticket, KYC + username + password checks, the customer it creates, and the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from atrium.db.session import Database
from atrium.events.models import OutboxEvent
from atrium.identity import identities, kyc, registration, service, tickets
from atrium.identity.errors import PhoneTaken, UsernameTaken
from atrium.identity.otp.errors import InvalidCode, TooManyCodes
from atrium.kit import clock
from atrium.notify import service as notify

PHONE = "+8613812345678"
ID_NUMBER = "11010519491231002X"
PASSWORD = "plum orbit lantern 42"
NOW = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def details(**overrides: str) -> registration.Details:
    values = {
        "username": "meiwang", "password": PASSWORD, "legal_name": "王美", "id_number": ID_NUMBER,
        "email": "mei@example.com", "address": "上海市浦东新区世纪大道100号",
    }
    values.update(overrides)
    return registration.Details(**values)


def sent_code(db: Database, phone: str = PHONE) -> str:
    """The last registration code texted to `phone`, read from the development outbox."""
    with db.read_session() as s:
        messages = [m for m in notify.outbox(s, phone=phone) if m.category == "otp.register"]
    assert messages, "no registration code was sent"
    match = re.search(r"\b(\d{6})\b", messages[0].body)
    assert match
    return match.group(1)


def register_customer(db: Database, *, phone: str = PHONE, **overrides: str) -> registration.Registered:
    """The whole flow through the services: start, the texted code, the ticket, the details."""
    with db.unit_of_work() as s:
        registration.start(s, phone=phone)
    code = sent_code(db, phone)
    with db.unit_of_work() as s:
        ticket = registration.verify_phone(s, phone=phone, code=code)
    with db.unit_of_work() as s:
        return registration.complete(s, ticket=ticket, details=details(**overrides))


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    fc = clock.FrozenClock(NOW)
    previous = clock.use(fc)
    try:
        yield fc
    finally:
        clock.use(previous)


def _messages(db: Database, phone: str = PHONE) -> list:  # type: ignore[type-arg]
    with db.read_session() as s:
        return list(notify.outbox(s, phone=phone))


# --- start ----------------------------------------------------------------------------------------------


def test_a_new_number_gets_a_code(db):
    with db.unit_of_work() as s:
        assert registration.start(s, phone="138 1234 5678") == PHONE
    [message] = _messages(db)
    assert message.category == "otp.register"
    assert re.search(r"\b\d{6}\b", message.body)


def test_a_registered_number_gets_a_warning_not_a_code_and_the_same_answer(db):
    register_customer(db)
    before = len(_messages(db))
    with db.unit_of_work() as s:
        assert registration.start(s, phone="13812345678", locale="en") == PHONE
    messages = _messages(db)
    assert len(messages) == before + 1
    warning = messages[0]
    assert warning.category == registration.ATTEMPT_CATEGORY
    assert "already registered" in warning.body
    assert not re.search(r"\b\d{6}\b", warning.body)


@pytest.mark.parametrize("registered", [False, True])
def test_both_paths_are_throttled_alike(db, frozen, registered):
    if registered:
        with db.unit_of_work() as s:
            service.create_customer(s, username="mei", password="pw", display_name="Mei", phone=PHONE)
    answers = []
    for minutes in (0, 0.5):
        frozen.set(NOW + timedelta(minutes=minutes))
        try:
            with db.unit_of_work() as s:
                registration.start(s, phone=PHONE)
            answers.append("sent")
        except TooManyCodes as exc:
            answers.append((exc.code, exc.detail, exc.extra["retry_after"]))
    assert answers == ["sent", ("too-many-codes", "a code was sent less than a minute ago", 30)]
    for minutes in range(1, 6):  # one a minute is fine until the hour's five are used
        frozen.set(NOW + timedelta(minutes=minutes * 2))
        try:
            with db.unit_of_work() as s:
                registration.start(s, phone=PHONE)
            answers.append("sent")
        except TooManyCodes as exc:
            answers.append((exc.detail, exc.extra["retry_after"]))
    assert answers[2:] == ["sent"] * 4 + [("too many codes this hour", 3000)]


def test_only_mainland_mobiles_can_register(db):
    with db.unit_of_work() as s, pytest.raises(kyc.InvalidKyc):
        registration.start(s, phone="+44 7700 900123")
    assert _messages(db, "+447700900123") == []


# --- verify and complete --------------------------------------------------------------------------------


def test_the_whole_flow_creates_a_customer_with_sealed_kyc(db):
    done = register_customer(db)
    with db.read_session() as s:
        customer = service.get_customer(s, done.customer_id)
        assert customer is not None
        assert customer.username == "meiwang" and customer.display_name == "meiwang"
        assert service.phone_of(customer) == PHONE
        assert service.find_customer_by_phone(s, PHONE) is not None
        assert customer.id_number_enc and ID_NUMBER not in customer.id_number_enc
        assert kyc.reveal(s, done.customer_id, "id_number") == ID_NUMBER
        assert kyc.profile(s, done.customer_id).legal_name == "王*"
        assert service.check_password(s, username="meiwang", password=PASSWORD, kind="customer")
        [person] = identities.list_identities(s, done.customer_id)
        assert person.kind == "person" and person.id == done.identity_id
        events = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "CustomerRegistered")).all()
    assert [e.payload["customer_id"] for e in events] == [done.customer_id]
    assert events[0].payload["channel"] == "mobile"
    assert set(events[0].payload) == {"id", "occurred_at", "customer_id", "channel"}  # no personal data


def test_a_wrong_code_gives_no_ticket(db):
    with db.unit_of_work() as s:
        registration.start(s, phone=PHONE)
    code = sent_code(db)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with db.unit_of_work() as s, pytest.raises(InvalidCode):
        registration.verify_phone(s, phone=PHONE, code=wrong)


def test_a_code_gives_one_ticket_only(db):
    with db.unit_of_work() as s:
        registration.start(s, phone=PHONE)
    code = sent_code(db)
    with db.unit_of_work() as s:
        registration.verify_phone(s, phone=PHONE, code=code)
    with db.unit_of_work() as s, pytest.raises(InvalidCode):
        registration.verify_phone(s, phone=PHONE, code=code)


def test_every_bad_detail_is_reported_at_once_and_nothing_is_created(db):
    with db.unit_of_work() as s:
        ticket = tickets.issue(registration.TICKET, {"ph": _sealed(PHONE)}, ttl=timedelta(minutes=5))
    bad = details(username="1x", password="short", legal_name="王", id_number="110105194912310021",
                  email="mei@", address="上海")
    with db.unit_of_work() as s, pytest.raises(registration.RegistrationInvalid) as info:
        registration.complete(s, ticket=ticket, details=bad)
    errors = info.value.errors
    assert errors.pop("password")[0] == "too-short"
    assert errors == {
        "username": ["format"], "legal_name": ["length"], "id_number": ["checksum"], "email": ["format"],
        "address": ["length"],
    }
    assert "王" not in str(info.value) and "short" not in str(info.value)
    with db.read_session() as s:
        assert service.count_customers(s) == 0


@pytest.mark.parametrize("password", ["13812345678 plum orbit", "plum orbit 19491231", "meiwang plum orbit"])
def test_the_password_may_not_contain_the_phone_birth_date_or_username(db, password):
    personal = "contains-username" if "meiwang" in password else "contains-personal"
    _, errors = registration.check_details(details(password=password), phone=PHONE)
    assert personal in errors["password"]


def _sealed(phone: str) -> str:
    from atrium.identity import pii

    return pii.seal(phone, context=registration.TICKET_CONTEXT)


def test_a_forged_or_foreign_ticket_is_refused(db):
    login_ticket = tickets.issue("login", {"ph": _sealed(PHONE)}, ttl=timedelta(minutes=5))
    unsealed = tickets.issue(registration.TICKET, {"ph": PHONE}, ttl=timedelta(minutes=5))
    for ticket in (login_ticket, "not-a-ticket"):
        with db.unit_of_work() as s, pytest.raises(tickets.TicketInvalid):
            registration.complete(s, ticket=ticket, details=details())
    with db.unit_of_work() as s, pytest.raises(Exception, match="does not open|malformed"):
        registration.complete(s, ticket=unsealed, details=details())


def test_an_expired_ticket_is_refused(db, frozen):
    with db.unit_of_work() as s:
        ticket = tickets.issue(registration.TICKET, {"ph": _sealed(PHONE)}, ttl=registration.TICKET_TTL)
    frozen.set(NOW + registration.TICKET_TTL + timedelta(seconds=1))
    with db.unit_of_work() as s, pytest.raises(tickets.TicketInvalid):
        registration.complete(s, ticket=ticket, details=details())


def test_usernames_are_unique_ignoring_case(db):
    register_customer(db)
    with pytest.raises(UsernameTaken):
        register_customer(db, phone="+8613900000001", username="MeiWang")


def test_a_phone_registered_meanwhile_is_refused(db):
    ticket = tickets.issue(registration.TICKET, {"ph": _sealed(PHONE)}, ttl=timedelta(minutes=5))
    with db.unit_of_work() as s:
        service.create_customer(s, username="early", password="pw", display_name="Early", phone=PHONE)
    with db.unit_of_work() as s, pytest.raises(PhoneTaken):
        registration.complete(s, ticket=ticket, details=details())


def test_details_never_print_the_password():
    assert PASSWORD not in repr(details()) and "王美" not in repr(details())


# --- the API ------------------------------------------------------------------------------------------------


def _api_register(  # type: ignore[no-untyped-def]
    client, db, phone: str = PHONE, **overrides: str
) -> dict[str, object]:
    r = client.post("/api/v1/auth/registration/start", json={"phone": phone})
    assert r.status_code == 202, r.text
    r = client.post("/api/v1/auth/registration/verify", json={"phone": phone, "code": sent_code(db, phone)})
    assert r.status_code == 200, r.text
    body = {"ticket": r.json()["ticket"], "username": "meiwang", "password": PASSWORD, "legal_name": "王美",
            "id_number": ID_NUMBER, "email": "mei@example.com", "address": "上海市浦东新区世纪大道100号"}
    body.update(overrides)
    r = client.post("/api/v1/auth/registration", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_api_answers_alike_for_registered_and_new_numbers(client, db):
    with db.unit_of_work() as s:
        service.create_customer(s, username="mei", password="pw", display_name="Mei", phone=PHONE)
    known = client.post("/api/v1/auth/registration/start", json={"phone": "138 1234 5678"})
    new = client.post("/api/v1/auth/registration/start", json={"phone": "13900000001"})
    assert known.status_code == new.status_code == 202
    assert known.json() == new.json() == {"sent": True, "expires_in": 300, "resend_after": 60}
    again = [
        client.post("/api/v1/auth/registration/start", json={"phone": p}) for p in (PHONE, "+8613900000001")
    ]
    assert [r.status_code for r in again] == [429, 429]
    assert again[0].json()["type"] == again[1].json()["type"]
    assert again[0].json()["detail"] == again[1].json()["detail"]


def test_registering_over_the_api_signs_in_at_level_2(client, db):
    body = _api_register(client, db)
    assert body["loa"] == 2 and body["acr"] == "urn:atrium:loa:2" and body["username"] == "meiwang"
    auth = {"Authorization": f"Bearer {body['token']}"}
    profile = client.get("/api/v1/auth/profile", headers=auth)
    assert profile.status_code == 200
    assert profile.json()["id_number"] == "110***********002X" and profile.json()["phone"] == "138****5678"
    assert ID_NUMBER not in profile.text and "王美" not in profile.text
    reveal = client.post("/api/v1/auth/profile/reveal", json={"field": "id_number"}, headers=auth)
    assert reveal.status_code == 200 and reveal.json() == {"field": "id_number", "value": ID_NUMBER}
    assert reveal.headers["cache-control"] == "no-store"
    with db.read_session() as s:
        events = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "CustomerRegistered")).all()
    assert [e.payload["channel"] for e in events] == ["api"]


def test_the_api_reports_every_bad_field(client, db):
    r = client.post("/api/v1/auth/registration/start", json={"phone": PHONE})
    ticket = client.post("/api/v1/auth/registration/verify",
                         json={"phone": PHONE, "code": sent_code(db)}).json()["ticket"]
    r = client.post("/api/v1/auth/registration", json={
        "ticket": ticket, "username": "meiwang", "password": "meiwang123", "legal_name": "王美",
        "id_number": "110105194912310021", "email": "mei@example.com",
        "address": "上海市浦东新区世纪大道100号",
    })
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("/registration-invalid")
    assert problem["errors"]["id_number"] == ["checksum"]
    assert "contains-username" in problem["errors"]["password"]
    assert "110105194912310021" not in r.text and "meiwang123" not in r.text


def test_a_wrong_code_over_the_api_counts_and_is_401(client, db):
    client.post("/api/v1/auth/registration/start", json={"phone": PHONE})
    wrong = f"{(int(sent_code(db)) + 1) % 1_000_000:06d}"
    for _ in range(5):
        r = client.post("/api/v1/auth/registration/verify", json={"phone": PHONE, "code": wrong})
        assert r.status_code == 401 and r.json()["type"].endswith("/invalid-code")
    # Five wrong tries kill the code: even the right one no longer works (the tries were counted although
    # each request rolled back).
    r = client.post("/api/v1/auth/registration/verify", json={"phone": PHONE, "code": sent_code(db)})
    assert r.status_code == 401


def test_profile_and_identities_need_a_session(client, db):
    assert client.get("/api/v1/auth/profile").status_code == 401
    assert client.post("/api/v1/auth/profile/reveal", json={"field": "phone"}).status_code == 401
    assert client.get("/api/v1/auth/identities").status_code == 401
    assert client.post("/api/v1/auth/identities/idn_x/switch").status_code == 401
