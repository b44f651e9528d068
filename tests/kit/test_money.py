"""Money: integer minor units, exact parsing of user text, plain formatting that parses back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.kit.errors import ValidationFailed
from atrium.kit.money import (
    CURRENCY_EXPONENT,
    MAX_AMOUNT_MINOR,
    CurrencyError,
    InvalidAmount,
    Money,
    parse_major,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENT))
amounts = st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.30", "CNY", 1230),
        ("12.3", "CNY", 1230),
        ("12", "CNY", 1200),
        ("0.01", "CNY", 1),
        (".5", "USD", 50),
        ("5.", "USD", 500),
        ("  7 ", "EUR", 700),
        ("1,234.56", "CNY", 123456),
        ("12,345,678", "HKD", 1234567800),
        ("-3.10", "CNY", -310),
        ("12.300", "CNY", 1230),  # trailing zeros add no precision
        ("500", "JPY", 500),
        ("１２．５０", "CNY", 1250),  # full-width input from a Chinese IME
        ("10000000000000", "CNY", MAX_AMOUNT_MINOR),
    ],
)
def test_parse_major_accepts_plain_amounts(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "abc", "1.2.3", "NaN", "Infinity", "-inf", "1e3", "1E-2", "1_000", "0x10", "--1",
        "1,00",  # a European decimal comma must not be read as one hundred
        "1,2345", ",100", "1 000", "١٢",  # Arabic-Indic digits are not folded to ASCII
        "12.345",  # more decimals than CNY has
        "1.0000000000000000000000000001",  # would round to an integral amount in a 28-digit context
        "10000000000000.01",  # beyond MAX_AMOUNT_MINOR
        "9" * 60,
    ],
)
def test_parse_major_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_major(text, "CNY")


def test_invalid_amount_is_a_value_error_and_a_422() -> None:
    with pytest.raises(ValueError):
        parse_major("1e3", "CNY")
    with pytest.raises(ValidationFailed) as info:
        parse_major("5.5", "JPY")
    assert info.value.status == 422


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(CurrencyError):
        parse_major("1", "XYZ")
    with pytest.raises(CurrencyError):
        Money(1, "cny")


@given(amounts, currencies)
def test_format_plain_parses_back(minor: int, currency: str) -> None:
    text, code = Money(minor, currency).format_plain().split(" ")
    assert code == currency
    assert parse_major(text, currency) == minor


@given(amounts, currencies)
def test_major_is_exact(minor: int, currency: str) -> None:
    major = Money(minor, currency).major
    assert major * Decimal(10) ** CURRENCY_EXPONENT[currency] == minor


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR), currencies)
def test_grouped_thousands_parse_like_plain(minor: int, currency: str) -> None:
    e = CURRENCY_EXPONENT[currency]
    whole, frac = divmod(minor, 10**e)
    grouped = f"{whole:,}" + (f".{frac:0{e}d}" if e else "")
    assert parse_major(grouped, currency) == minor


def test_format_plain() -> None:
    assert Money(123450, "CNY").format_plain() == "1234.50 CNY"
    assert Money(-5, "USD").format_plain() == "-0.05 USD"
    assert Money(500, "JPY").format_plain() == "500 JPY"


def test_arithmetic_stays_in_one_currency() -> None:
    assert Money(100, "CNY") + Money(25, "CNY") == Money(125, "CNY")
    assert Money(100, "CNY") - Money(125, "CNY") == Money(-25, "CNY")
    assert -Money(3, "EUR") == Money(-3, "EUR")
    assert Money.zero("JPY") == Money(0, "JPY")
    with pytest.raises(CurrencyError):
        Money(1, "CNY") + Money(1, "USD")


@pytest.mark.parametrize("bad", [1.5, True, "100", Decimal("1")])
def test_money_refuses_non_integer_amounts(bad: object) -> None:
    with pytest.raises(TypeError):
        Money(bad, "CNY")  # type: ignore[arg-type]
