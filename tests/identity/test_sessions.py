"""Sessions: the level of assurance follows from the methods; step-ups raise it; sessions end one by one,
all at once, or with their device."""

from __future__ import annotations

import pytest

from atrium.identity import service, sessions
from atrium.identity.errors import SessionExpired


@pytest.mark.parametrize(
    ("amr", "level"),
    [
        (["pwd"], 1),
        (["sms"], 1),
        (["otp"], 1),
        (["pwd", "sms"], 2),
        (["pwd", "otp"], 2),
        (["pwd", "hwk"], 2),
        (["passkey"], 2),
        (["sms", "hwk"], 2),
        (["sms", "otp"], 1),
    ],
)
def test_the_level_follows_from_the_methods(amr: list[str], level: int) -> None:
    assert sessions.level_of(amr) == level


def test_unknown_methods_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown"):
        sessions.level_of(["pwd", "face"])


@pytest.fixture()
def mei(session) -> str:  # type: ignore[no-untyped-def]
    return service.create_customer(session, username="mei", password="pw-1234567890", display_name="王美").id


def test_a_token_is_stored_only_as_its_digest_and_authenticates(session, mei) -> None:  # type: ignore[no-untyped-def]
    token, principal = sessions.open_session(session, customer_id=mei, amr=["pwd"], ip="10.0.0.1")
    assert principal.loa == 1 and principal.sid.startswith("ses_")
    assert sessions.by_sid(session, principal.sid).token_hash == sessions.digest(token)  # type: ignore[union-attr]
    assert sessions.authenticate(session, token).id == mei


def test_a_step_up_raises_the_level_and_refreshes_the_time(session, mei) -> None:  # type: ignore[no-untyped-def]
    token, principal = sessions.open_session(session, customer_id=mei, amr=["pwd"])
    assert sessions.raise_assurance(session, principal.sid or "", "sms") == 2
    assert set(sessions.authenticate(session, token).amr) == {"pwd", "sms"}


def test_revoke_one_all_and_by_device(session, mei) -> None:  # type: ignore[no-untyped-def]
    other = service.create_customer(session, username="lei", password="pw-1234567890", display_name="李雷").id
    t1, p1 = sessions.open_session(session, customer_id=mei, amr=["pwd"], device_id="dev_1")
    t2, p2 = sessions.open_session(session, customer_id=mei, amr=["pwd"], device_id="dev_2")
    t3, p3 = sessions.open_session(session, customer_id=mei, amr=["pwd"])
    t4, _ = sessions.open_session(session, customer_id=other, amr=["pwd"])
    assert not sessions.revoke(session, other, p1.sid or ""), (
        "another customer's session is not theirs to end"
    )
    assert sessions.revoke_for_device(session, mei, "dev_1") == 1
    with pytest.raises(SessionExpired):
        sessions.authenticate(session, t1)
    assert sessions.revoke_all(session, mei, except_sid=p3.sid) == 1
    with pytest.raises(SessionExpired):
        sessions.authenticate(session, t2)
    assert sessions.authenticate(session, t3).id == mei
    assert sessions.authenticate(session, t4).id == other
