"""The password policy: length, common/guessable passwords, nothing personal, not one of the last 5."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.identity import password_policy, passwords
from atrium.identity import service as identity
from atrium.identity.otp.errors import PasswordRejected, WrongCurrentPassword

GOOD = "correct horse battery"


@pytest.mark.parametrize(
    ("password", "violation"),
    [
        ("Xq7#vLp2", "too-short"),
        ("a" * 129, "too-long"),
        ("password1234", "common"),
        ("iloveyou123", "common"),
        ("qwertyuiop", "common"),
        ("aaaaaaaaaaaa", "too-weak"),
        ("mei2024mei!Zq", "contains-username"),
        ("Zq9!13812345678", "contains-personal"),
        ("wang.mei.Zq9!x", "contains-personal"),
    ],
)
def test_violations(password: str, violation: str) -> None:
    personal = ["+8613812345678", "wang.mei@example.com"]
    found = password_policy.check(password, username="mei", personal=personal)
    assert violation in found


def test_a_good_password_passes() -> None:
    assert password_policy.check(GOOD, username="mei", personal=["+8613812345678"]) == []
    assert password_policy.check("Kx9#mPq2vL!w", username="mei") == []


def test_every_violation_is_worded_in_both_languages() -> None:
    for violation in password_policy.VIOLATIONS:
        zh, en = password_policy.describe(violation, "zh"), password_policy.describe(violation, "en")
        assert zh and en and zh != en


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=0, max_size=9))
def test_anything_shorter_than_ten_is_refused(password: str) -> None:
    assert "too-short" in password_policy.check(password, username="someone")


@pytest.fixture()
def customer_id(session) -> str:  # type: ignore[no-untyped-def]
    return identity.create_customer(
        session, username="mei", password="first password ok", display_name="王美", phone="+8613812345678"
    ).id


def _hash(session, customer_id: str) -> str:  # type: ignore[no-untyped-def]
    return identity.get_customer(session, customer_id).password_hash


def test_change_needs_the_current_password(session, customer_id):
    with pytest.raises(WrongCurrentPassword):
        password_policy.change_password(session, customer_id, "not it", GOOD)
    password_policy.change_password(session, customer_id, "first password ok", GOOD)
    assert passwords.verify_password(_hash(session, customer_id), GOOD)


def test_the_phone_on_file_counts_as_personal(session, customer_id):
    with pytest.raises(PasswordRejected) as caught:
        password_policy.set_password(session, customer_id, "Zq9!x13812345678")
    assert "contains-personal" in caught.value.extra["violations"]
    assert caught.value.status == 422


def test_none_of_the_last_five_passwords_can_come_back(session, customer_id):
    history = ["first password ok"] + [f"violet tundra {n} kayak" for n in range(1, 6)]
    for new in history[1:]:
        password_policy.set_password(session, customer_id, new)
    # current = #5; the last five are #1..#5: all refused, #0 (six ago) is allowed again
    for old in history[1:]:
        with pytest.raises(PasswordRejected) as caught:
            password_policy.set_password(session, customer_id, old)
        assert caught.value.extra["violations"] == ["reused"]
    password_policy.set_password(session, customer_id, history[0])
    assert passwords.verify_password(_hash(session, customer_id), history[0])
