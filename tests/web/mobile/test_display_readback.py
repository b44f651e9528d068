"""Elder mode's read-back: amounts in words (Chinese as a cheque writes them, English), checked by reading
them back into numbers for any amount the bank allows; and the token that binds a tick to one payment."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atrium.kit.money import MAX_AMOUNT_MINOR
from atrium.web.mobile.readback import amount_in_words, confirmed, en_integer, token, zh_integer

_ZH_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_ZH_PLACES = {"拾": 10, "佰": 100, "仟": 1000}
_EN_ONES = {w: i for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"))}
_EN_TENS = {w: 10 * i for i, w in enumerate(
    ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")) if w}
_EN_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def _read_zh(text: str) -> int:
    """Capital numerals back to a number (an independent reader: 亿 closes what came before it)."""
    total = wan = section = number = 0
    for ch in text:
        if ch in _ZH_DIGITS:
            number = _ZH_DIGITS[ch]
        elif ch in _ZH_PLACES:
            assert number, f"a place without a digit in {text}"
            section += number * _ZH_PLACES[ch]
            number = 0
        elif ch == "万":
            wan += (section + number) * 10**4
            section = number = 0
        elif ch == "亿":
            total += (wan + section + number) * 10**8
            wan = section = number = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text}")
    return total + wan + section + number


def _read_en(text: str) -> int:
    total = current = 0
    for word in text.replace("-", " ").split():
        if word in _EN_ONES:
            current += _EN_ONES[word]
        elif word in _EN_TENS:
            current += _EN_TENS[word]
        elif word == "hundred":
            current *= 100
        elif word in _EN_SCALES:
            total += current * _EN_SCALES[word]
            current = 0
        else:
            raise AssertionError(f"unexpected {word!r} in {text}")
    return total + current


_CNY = re.compile(
    r"人民币(?:(?P<yuan>[^元]+)元)?(?P<zero>零)?(?:(?P<jiao>.)角)?(?:(?P<fen>.)分)?(?P<whole>整)?"
)


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR // 100))
def test_chinese_numerals_read_back_to_the_number(n):
    text = zh_integer(n)
    assert _read_zh(text) == n
    assert "零零" not in text and (n == 0 or not text.endswith("零"))


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR // 100))
def test_english_words_read_back_to_the_number(n):
    assert _read_en(en_integer(n)) == n


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR))
def test_a_yuan_amount_reads_back_in_both_languages(amount_minor):
    zh = amount_in_words(amount_minor, "CNY", "zh")
    m = _CNY.fullmatch(zh)
    assert m, zh
    yuan = _read_zh(m["yuan"]) if m["yuan"] and m["yuan"] != "零" else 0
    jiao = _ZH_DIGITS[m["jiao"]] if m["jiao"] else 0
    fen = _ZH_DIGITS[m["fen"]] if m["fen"] else 0
    assert yuan * 100 + jiao * 10 + fen == amount_minor
    assert bool(m["whole"]) == (jiao == fen == 0)  # 整 exactly when there are no jiao and fen
    en = amount_in_words(amount_minor, "CNY", "en")
    whole, _, fen_part = en.partition(" and ")
    if " yuan" in whole:
        fen = _read_en(fen_part.removesuffix(" fen")) if fen_part else 0
        en_total = _read_en(whole.removesuffix(" yuan")) * 100 + fen
    else:
        en_total = _read_en(whole.removesuffix(" fen"))
    assert en_total == amount_minor


@pytest.mark.parametrize(
    ("amount_minor", "currency", "zh", "en"),
    [
        (100_000, "CNY", "人民币壹仟元整", "one thousand yuan"),
        (105_050, "CNY", "人民币壹仟零伍拾元伍角", "one thousand fifty yuan and fifty fen"),
        (105, "CNY", "人民币壹元零伍分", "one yuan and five fen"),
        (5, "CNY", "人民币伍分", "five fen"),
        (0, "CNY", "人民币零元整", "zero yuan"),
        (1_000_050, "CNY", "人民币壹万元伍角", "ten thousand yuan and fifty fen"),
        (10_000_000_100, "CNY", "人民币壹亿零壹元整", "one hundred million one yuan"),
        (1_200_000_000_000_000 // 1000 * 1000, "CNY", "人民币壹拾贰万亿元整", "twelve trillion yuan"),
        (10_050, "USD", "壹佰点伍美元", "one hundred point five US dollars"),
        (100, "USD", "壹美元", "one US dollar"),
        (1_200, "JPY", "壹仟贰佰日元", "one thousand two hundred Japanese yen"),
    ],
)
def test_worked_examples(amount_minor, currency, zh, en):
    assert amount_in_words(amount_minor, currency, "zh") == zh
    assert amount_in_words(amount_minor, currency, "en") == en


def test_negative_amounts_have_no_read_back():
    with pytest.raises(ValueError):
        amount_in_words(-1, "CNY", "zh")


def test_a_tick_confirms_exactly_one_payment():
    same = {"key": "mweb-abc12345", "payee": "payee:pay_1", "amount_minor": 100_000, "currency": "CNY"}
    tick = token(**same)
    assert confirmed(tick, **same)
    assert not confirmed("", **same) and not confirmed(None, **same)
    assert not confirmed(tick, **same | {"amount_minor": 100_001})
    assert not confirmed(tick, **same | {"payee": "payee:pay_2"})
    assert not confirmed(tick, **same | {"key": "mweb-other123"})
    assert not confirmed(tick, **same | {"currency": "USD"})
    assert not confirmed(tick.upper(), **same)
