"""Pure rules: account numbers, masking, products, the calendar and the interest maths (no database)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atrium.accounts import domain


def _digits(seed: int):  # type: ignore[no-untyped-def]
    rnd = random.Random(seed)
    return lambda n: "".join(rnd.choice("0123456789") for _ in range(n))


def test_luhn_known_examples() -> None:
    assert domain.luhn_valid("79927398713")  # the textbook example
    assert not domain.luhn_valid("79927398710")
    assert domain.luhn_check_digit("7992739871") == "3"
    assert domain.luhn_valid("4111111111111111")


@given(st.integers(min_value=0, max_value=10**6))
def test_new_numbers_are_19_digits_with_bin_and_valid_check_digit(seed: int) -> None:
    number = domain.new_account_number(_digits(seed))
    assert len(number) == 19 and number.isdigit()
    assert number.startswith(domain.BANK_BIN)
    assert domain.luhn_valid(number)
    assert domain.check_number(number) == number


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=18),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_typo_is_caught(seed: int, position: int, delta: int) -> None:
    number = domain.new_account_number(_digits(seed))
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not domain.luhn_valid(typo)
    with pytest.raises(domain.RuleError, match="typo"):
        domain.check_number(typo)


def test_check_number_accepts_spaces_and_dashes_and_refuses_wrong_lengths() -> None:
    number = domain.new_account_number(_digits(1))
    spaced = " ".join(number[i : i + 4] for i in range(0, 19, 4))
    assert domain.check_number(spaced) == number
    assert domain.check_number(number[:6] + "-" + number[6:]) == number
    for bad in ("", number[:-1], number + "0", "6222abc" + number[7:]):
        with pytest.raises(domain.RuleError, match="19 digits"):
            domain.check_number(bad)


def test_masking() -> None:
    assert domain.mask_number("6222880123456781234") == "6222 **** **** 1234"
    assert domain.mask_name("张三") == "*三"
    assert domain.mask_name("欧阳小明") == "***明"
    assert domain.mask_name("Alice Wang") == "A**** W***"
    assert domain.mask_name("  ") == ""


def test_products_and_currencies() -> None:
    for product in ("current", "savings"):
        for currency in ("CNY", "USD"):
            assert domain.check_product_currency(product, currency).code == product
    assert domain.product("savings").earns_interest and not domain.product("current").earns_interest
    assert (domain.annual_rate_bp("savings", 150), domain.annual_rate_bp("current", 150)) == (150, 0)
    with pytest.raises(domain.RuleError, match="not JPY"):
        domain.check_product_currency("savings", "JPY")
    with pytest.raises(domain.RuleError, match="unknown product"):
        domain.product("gold")


def test_nickname_rules() -> None:
    assert domain.clean_nickname("  Rainy   day ") == "Rainy day"
    assert domain.clean_nickname("   ") is None
    with pytest.raises(domain.RuleError):
        domain.clean_nickname("x" * 41)
    with pytest.raises(domain.RuleError):
        domain.clean_nickname("bad\u0000name")


def test_bank_calendar_is_china_standard_time() -> None:
    # 16:30 UTC on the 31st is already 00:30 on the 1st in Beijing.
    assert domain.local_date(datetime(2025, 1, 31, 16, 30, tzinfo=UTC)) == date(2025, 2, 1)
    assert domain.day_start(date(2025, 2, 1)) == datetime(2025, 1, 31, 16, 0, tzinfo=UTC)
    assert domain.parse_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    for bad in ("2024-13", "24-01", "2024-1", "abc"):
        with pytest.raises(domain.RuleError):
            domain.parse_period(bad)


def test_spreadsheet_guard() -> None:
    assert domain.guard_spreadsheet_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert domain.guard_spreadsheet_text("@SUM") == "'@SUM"
    assert domain.guard_spreadsheet_text("工资 salary") == "工资 salary"


def test_one_day_of_interest_worked_example() -> None:
    # 1,000,000.00 CNY at 1.50 % for one day: 100,000,000 * 150 / 3,650,000 = 4109.589… minor units.
    amount, carry = domain.accrue_day(100_000_000, 150, 0)
    assert amount == 4109
    assert carry == 100_000_000 * 150 - 4109 * domain.DAY_DENOMINATOR
    assert domain.accrue_day(-500, 150, 7) == (0, 7)  # overdrawn: earns nothing, keeps its carry


@settings(max_examples=300)
@given(
    balance=st.integers(min_value=0, max_value=10**15),
    rate=st.integers(min_value=0, max_value=2_000),
    n=st.integers(min_value=0, max_value=400),
    carry0=st.integers(min_value=0, max_value=domain.DAY_DENOMINATOR - 1),
)
def test_constant_balance_accrual_equals_closed_form(balance: int, rate: int, n: int, carry0: int) -> None:
    amounts, carry = domain.accrue_days([balance] * n, rate, carry0)
    total = carry0 + n * balance * rate
    # The closed form: whole units of the exact total, and the rest carried (less than one minor unit).
    assert sum(amounts) == total // domain.DAY_DENOMINATOR
    assert carry == total % domain.DAY_DENOMINATOR
    assert 0 <= carry < domain.DAY_DENOMINATOR


@given(
    balances=st.lists(st.integers(min_value=-(10**9), max_value=10**15), max_size=120),
    rate=st.integers(min_value=0, max_value=2_000),
)
def test_varying_balances_lose_nothing_to_rounding(balances: list[int], rate: int) -> None:
    amounts, carry = domain.accrue_days(balances, rate)
    exact = sum(max(b, 0) * rate for b in balances)
    assert sum(amounts) * domain.DAY_DENOMINATOR + carry == exact
    assert all(a >= 0 for a in amounts)
    # Accruing in two runs (a catch-up after a pause) gives the same result as one run.
    k = len(balances) // 2
    first, mid = domain.accrue_days(balances[:k], rate)
    second, end = domain.accrue_days(balances[k:], rate, mid)
    assert first + second == amounts and end == carry
