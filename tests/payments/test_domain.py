"""The pure payment rules, without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.payments import domain
from atrium.payments.domain import RuleBroken


@pytest.mark.parametrize("amount", [1, 100, MAX_AMOUNT_MINOR])
def test_amounts_in_range_pass(amount: int) -> None:
    assert domain.check_amount(amount) == amount


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT_MINOR + 1, 10**30, True, 1.5, "100"])
def test_amounts_out_of_range_or_not_integers_are_refused(amount: object) -> None:
    with pytest.raises(RuleBroken):
        domain.check_amount(amount)  # type: ignore[arg-type]


def test_account_numbers_lose_spaces_and_dashes_and_must_be_digits() -> None:
    assert domain.normalise_account_number("6222 0210-0012 3456") == "6222021000123456"
    for bad in ["", "12345", "62220210abc", "1" * 35]:
        with pytest.raises(RuleBroken):
            domain.normalise_account_number(bad)


def test_bank_codes_are_upper_cased_letters_and_digits() -> None:
    assert domain.normalise_bank_code(" hcbk ") == "HCBK"
    for bad in ["", "AB", "HC-BK", "X" * 12]:
        with pytest.raises(RuleBroken):
            domain.normalise_bank_code(bad)


def test_names_and_memos_are_trimmed_and_bounded() -> None:
    assert domain.normalise_name("  Zhang   San ") == "Zhang San"
    assert domain.normalise_memo(None) == ""
    assert domain.normalise_memo(" rent\tMay ") == "rent May"
    with pytest.raises(RuleBroken):
        domain.normalise_name("   ")
    with pytest.raises(RuleBroken):
        domain.normalise_name("x" * 121)
    with pytest.raises(RuleBroken):
        domain.normalise_memo("m" * 141)
    with pytest.raises(RuleBroken):
        domain.normalise_name("bad\x00name")


def test_only_a_pending_transfer_moves_and_only_to_an_end() -> None:
    assert domain.can_transition("pending", "settled")
    assert domain.can_transition("pending", "returned")
    assert domain.can_transition("pending", "failed")
    assert not domain.can_transition("settled", "returned")
    assert not domain.can_transition("returned", "settled")
    assert not domain.can_transition("completed", "settled")
    assert not domain.can_transition("pending", "completed")


def test_masking_keeps_the_last_four_digits() -> None:
    assert domain.mask_account_number("6222021000123456") == "••3456"
    assert domain.mask_account_number("") == ""


def test_ledger_keys_derive_from_the_transfer_id() -> None:
    assert domain.ledger_key("trf_1", "hold") == "trf_1:hold"
    assert domain.ledger_key("trf_1", "hold") != domain.ledger_key("trf_2", "hold")


def test_submission_backoff_grows_and_is_capped() -> None:
    waits = [domain.submit_backoff(n) for n in range(1, 12)]
    assert waits == sorted(waits)
    assert waits[0] == timedelta(seconds=2)
    assert waits[-1] == timedelta(seconds=300)
