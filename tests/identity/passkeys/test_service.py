"""The passkey service with a software authenticator: the happy paths and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from atrium.identity import service as identity
from atrium.identity.passkeys import service as passkeys
from atrium.identity.passkeys.errors import (
    InvalidPasskey,
    InvalidPasskeyName,
    NoPasskey,
    PasskeyExists,
    PasskeyNotFound,
)
from atrium.kit import clock
from tests.identity.passkeys.authenticator import SoftAuthenticator

RP = "localhost"
ORIGIN = "http://localhost:8000"


@pytest.fixture()
def frozen() -> Iterator[clock.FrozenClock]:
    fc = clock.FrozenClock(datetime(2030, 5, 1, 9, 0, tzinfo=UTC))
    previous = clock.use(fc)
    try:
        yield fc
    finally:
        clock.use(previous)


def _customer(session: Session, username: str = "mei") -> str:
    customer = identity.create_customer(session, username=username, password="pw-1234567",
                                        display_name="王美")
    return customer.id


def _registered(session: Session, customer_id: str, **kwargs) -> SoftAuthenticator:  # type: ignore[no-untyped-def]
    auth = SoftAuthenticator(origin=ORIGIN, **kwargs)
    options = passkeys.registration_options(session, customer_id=customer_id, rp_id=RP, origin=ORIGIN)
    passkeys.register(session, customer_id=customer_id, credential=auth.create(options), name="Phone",
                      rp_id=RP, origin=ORIGIN)
    return auth


def _login(session: Session, auth: SoftAuthenticator, **get_kwargs) -> str:  # type: ignore[no-untyped-def]
    options = passkeys.authentication_options(session, rp_id=RP)
    return passkeys.authenticate(session, credential=auth.get(options, **get_kwargs), rp_id=RP, origin=ORIGIN)


def test_registration_options_ask_for_a_discoverable_user_verified_credential(session: Session) -> None:
    cid = _customer(session)
    options = passkeys.registration_options(session, customer_id=cid, rp_id=RP, origin=ORIGIN)
    assert options["rp"] == {"name": "Atrium", "id": RP}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["name"] == "mei"
    assert options["timeout"] == 120_000


def test_register_then_sign_in_with_the_passkey(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    [stored] = passkeys.list_passkeys(session, cid)
    assert stored.id == auth.id and stored.name == "Phone" and stored.transports == ["internal"]
    assert stored.last_used_at is None
    assert passkeys.has_passkey(session, cid)

    assert _login(session, auth) == cid
    [used] = passkeys.list_passkeys(session, cid)
    assert used.last_used_at is not None


def test_an_existing_passkey_is_excluded_and_cannot_be_registered_twice(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    options = passkeys.registration_options(session, customer_id=cid, rp_id=RP, origin=ORIGIN)
    assert [c["id"] for c in options["excludeCredentials"]] == [auth.id]
    with pytest.raises(PasskeyExists):
        passkeys.register(session, customer_id=cid, credential=auth.create(options), name="Again", rp_id=RP,
                          origin=ORIGIN)


def test_a_passkey_needs_a_name(session: Session) -> None:
    cid = _customer(session)
    options = passkeys.registration_options(session, customer_id=cid, rp_id=RP, origin=ORIGIN)
    with pytest.raises(InvalidPasskeyName):
        passkeys.register(session, customer_id=cid, name="   ",
                          credential=SoftAuthenticator(origin=ORIGIN).create(options), rp_id=RP,
                          origin=ORIGIN)


def test_registration_without_user_verification_is_refused(session: Session) -> None:
    cid = _customer(session)
    options = passkeys.registration_options(session, customer_id=cid, rp_id=RP, origin=ORIGIN)
    weak = SoftAuthenticator(origin=ORIGIN, user_verified=False)
    with pytest.raises(InvalidPasskey, match="verif"):
        passkeys.register(session, customer_id=cid, credential=weak.create(options), name="Key", rp_id=RP,
                          origin=ORIGIN)
    assert not passkeys.has_passkey(session, cid)


def test_registration_options_of_one_customer_do_not_register_for_another(session: Session) -> None:
    mei, lei = _customer(session), _customer(session, "lei")
    options = passkeys.registration_options(session, customer_id=mei, rp_id=RP, origin=ORIGIN)
    with pytest.raises(InvalidPasskey, match="another ceremony"):
        passkeys.register(session, customer_id=lei, name="Key",
                          credential=SoftAuthenticator(origin=ORIGIN).create(options), rp_id=RP,
                          origin=ORIGIN)


def test_an_unknown_credential_is_refused(session: Session) -> None:
    cid = _customer(session)
    _registered(session, cid)
    stranger = SoftAuthenticator(origin=ORIGIN, user_handle=cid.encode())
    with pytest.raises(InvalidPasskey, match="not registered"):
        _login(session, stranger)


def test_an_assertion_from_another_origin_is_refused(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    with pytest.raises(InvalidPasskey, match="origin"):
        _login(session, auth, origin="https://phish.example")


def test_an_assertion_for_another_relying_party_is_refused(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    with pytest.raises(InvalidPasskey, match="RP ID"):
        _login(session, auth, rp_id="evil.example")


def test_a_challenge_answers_once(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    options = passkeys.authentication_options(session, rp_id=RP)
    first = auth.get(options)
    assert passkeys.authenticate(session, credential=first, rp_id=RP, origin=ORIGIN) == cid
    with pytest.raises(InvalidPasskey, match="already used"):
        passkeys.authenticate(session, credential=auth.get(options), rp_id=RP, origin=ORIGIN)


def test_an_unknown_challenge_is_refused(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    made_up = {"rpId": RP, "challenge": "bm90LWlzc3VlZC1ieS11cy1hdC1hbGwtMDEyMzQ1Njc4OQ"}
    with pytest.raises(InvalidPasskey, match="unknown"):
        passkeys.authenticate(session, credential=auth.get(made_up), rp_id=RP, origin=ORIGIN)


def test_a_ceremony_expires_after_two_minutes(session: Session, frozen: clock.FrozenClock) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    options = passkeys.authentication_options(session, rp_id=RP)
    frozen.set(frozen.now() + timedelta(minutes=2, seconds=1))
    with pytest.raises(InvalidPasskey, match="expired"):
        passkeys.authenticate(session, credential=auth.get(options), rp_id=RP, origin=ORIGIN)


def test_a_counter_that_goes_backwards_is_refused_as_a_clone(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    assert _login(session, auth) == cid  # counter 1
    assert _login(session, auth) == cid  # counter 2
    with pytest.raises(InvalidPasskey, match="cloned"):
        _login(session, auth, counter=2)  # a copy of the key that signed with the counter it had
    with pytest.raises(InvalidPasskey, match="cloned"):
        _login(session, auth, counter=1)
    assert _login(session, auth) == cid  # the genuine authenticator moves on


def test_an_unsigned_guess_with_an_old_counter_is_no_clone_alarm(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    assert _login(session, auth) == cid
    impostor = SoftAuthenticator(origin=ORIGIN, credential_id=auth.credential_id,
                                 user_handle=auth.user_handle)
    with pytest.raises(InvalidPasskey, match="signature") as refused:
        _login(session, impostor, counter=1)
    assert "cloned" not in str(refused.value)


def test_an_assertion_without_user_verification_is_refused(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    auth.user_verified = False
    with pytest.raises(InvalidPasskey, match="verif"):
        _login(session, auth)


def test_a_forged_signature_is_refused(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    impostor = SoftAuthenticator(origin=ORIGIN, credential_id=auth.credential_id,
                                 user_handle=auth.user_handle)
    with pytest.raises(InvalidPasskey, match="signature"):
        _login(session, impostor)


def test_a_closed_customer_cannot_sign_in(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    identity.get_customer(session, cid).status = "closed"  # type: ignore[union-attr]
    with pytest.raises(InvalidPasskey, match="closed"):
        _login(session, auth)


def test_a_step_up_assertion_is_bound_to_its_action(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    options = passkeys.authentication_options(session, rp_id=RP, customer_id=cid, bind="passkey.remove|abc")
    assert [c["id"] for c in options["allowCredentials"]] == [auth.id]
    assertion = auth.get(options)
    with pytest.raises(InvalidPasskey, match="another action"):
        passkeys.authenticate(session, credential=assertion, rp_id=RP, origin=ORIGIN, customer_id=cid,
                              bind="transfer|999")
    ok = passkeys.authenticate(session, credential=auth.get(options), rp_id=RP, origin=ORIGIN,
                               customer_id=cid, bind="passkey.remove|abc")
    assert ok == cid


def test_a_sign_in_challenge_cannot_stand_for_a_bound_step_up(session: Session) -> None:
    cid = _customer(session)
    auth = _registered(session, cid)
    options = passkeys.authentication_options(session, rp_id=RP, customer_id=cid)
    with pytest.raises(InvalidPasskey, match="not bound"):
        passkeys.authenticate(session, credential=auth.get(options), rp_id=RP, origin=ORIGIN, customer_id=cid,
                              bind="transfer|999")


def test_a_step_up_takes_only_the_customers_own_passkey(session: Session) -> None:
    mei, lei = _customer(session), _customer(session, "lei")
    _registered(session, mei)
    leis = _registered(session, lei)
    options = passkeys.authentication_options(session, rp_id=RP, customer_id=mei, bind="x")
    with pytest.raises(InvalidPasskey, match="another customer"):
        passkeys.authenticate(session, credential=leis.get(options), rp_id=RP, origin=ORIGIN, customer_id=mei,
                              bind="x")


def test_a_step_up_needs_a_passkey(session: Session) -> None:
    cid = _customer(session)
    with pytest.raises(NoPasskey):
        passkeys.authentication_options(session, rp_id=RP, customer_id=cid, bind="x")


def test_a_malformed_response_is_a_refusal_not_a_crash(session: Session) -> None:
    _customer(session)
    garbled = {"id": "AA", "rawId": "AA", "type": "public-key",
               "response": {"clientDataJSON": "!!", "authenticatorData": "", "signature": ""}}
    for junk in ({}, {"id": "x", "response": {}}, garbled):
        with pytest.raises(InvalidPasskey):
            passkeys.authenticate(session, credential=junk, rp_id=RP, origin=ORIGIN)


def test_another_customers_passkey_is_not_found(session: Session) -> None:
    mei, lei = _customer(session), _customer(session, "lei")
    auth = _registered(session, mei)
    with pytest.raises(PasskeyNotFound):
        passkeys.remove(session, customer_id=lei, credential_id=auth.id)
    with pytest.raises(PasskeyNotFound):
        passkeys.get_owned(session, customer_id=lei, credential_id=auth.id)
    passkeys.remove(session, customer_id=mei, credential_id=auth.id)
    assert not passkeys.has_passkey(session, mei)
