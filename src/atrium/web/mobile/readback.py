"""Elder mode's read-back: a money movement's amount in words, and proof that the person confirmed exactly
that amount to exactly that payee.

In elder mode the transfer and QR confirmation pages ask for a second, explicit confirmation — a box the
person ticks under a sentence that reads the payee and the amount back, the amount also in words (in
Chinese as a cheque writes it: 人民币壹仟零伍拾元伍角). The box's value is `token(...)`, an HMAC over the
form's idempotency key, the payee and the amount, so the server can check that the confirmation it
receives is for the very payment it is about to make (a changed amount or payee needs a new tick).
"""

from __future__ import annotations

import hashlib
import hmac

from babel import numbers

from atrium.config import get_settings
from atrium.kit.money import exponent
from atrium.web.mobile.i18n.formatting import babel_locale

FIELD = "readback"
_ZH_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_ZH_PLACES = ("", "拾", "佰", "仟")
_EN_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def _zh_below_10k(n: int) -> str:
    """1..9999 in capital numerals: zeros inside collapse to one 零, trailing zeros are silent."""
    out: list[str] = []
    gap = False
    for place in range(3, -1, -1):
        digit = n // 10**place % 10
        if digit == 0:
            gap = gap or bool(out)
            continue
        if gap:
            out.append("零")
            gap = False
        out.append(_ZH_DIGITS[digit] + _ZH_PLACES[place])
    return "".join(out)


def _zh_below_100m(n: int) -> str:
    if n < 10**4:
        return _zh_below_10k(n)
    high, low = divmod(n, 10**4)
    text = _zh_below_10k(high) + "万"
    if low:
        text += ("零" if low < 1000 else "") + _zh_below_10k(low)
    return text


def zh_integer(n: int) -> str:
    """A whole number in capital numerals (大写): 10050 → 壹万零伍拾; 1_2000_0000_0000 → 壹万贰仟亿."""
    if n < 0:
        raise ValueError("a negative amount has no read-back")
    if n == 0:
        return "零"
    if n < 10**8:
        return _zh_below_100m(n)
    high, low = divmod(n, 10**8)
    text = zh_integer(high) + "亿"
    if low:
        text += ("零" if low < 10**7 else "") + _zh_below_100m(low)
    return text


def en_integer(n: int) -> str:
    """A whole number in English words: 1050 → one thousand fifty."""
    if n < 0:
        raise ValueError("a negative amount has no read-back")
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_ONES[hundreds]} hundred" + (f" {en_integer(rest)}" if rest else "")
    for scale, name in _EN_SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{en_integer(high)} {name}" + (f" {en_integer(rest)}" if rest else "")
    raise AssertionError("unreachable: every n >= 1000 meets a scale")


def _zh_cny(amount_minor: int) -> str:
    """人民币 as a cheque writes it: 元, then 角 and 分, 整 when there are none."""
    yuan, rest = divmod(amount_minor, 100)
    jiao, fen = divmod(rest, 10)
    text = "人民币" + (zh_integer(yuan) + "元" if yuan else "")
    if jiao == fen == 0:
        return text + ("整" if yuan else "零元整")
    if jiao:
        text += _ZH_DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _ZH_DIGITS[fen] + "分"
    return text


def amount_in_words(amount_minor: int, currency: str, locale: str) -> str:
    """The amount in words in `locale` ("zh" or "en"): 人民币壹仟零伍拾元伍角 / one thousand fifty yuan
    and fifty fen. Other currencies read their minor units as decimals (壹佰点伍美元 / one hundred point
    five US dollars)."""
    if amount_minor < 0:
        raise ValueError("a negative amount has no read-back")
    if currency == "CNY":
        if locale == "zh":
            return _zh_cny(amount_minor)
        yuan, fen = divmod(amount_minor, 100)
        if not fen:
            return f"{en_integer(yuan)} yuan"
        return (f"{en_integer(yuan)} yuan and " if yuan else "") + f"{en_integer(fen)} fen"
    digits = exponent(currency)
    whole, part = divmod(amount_minor, 10**digits) if digits else (amount_minor, 0)
    decimals = f"{part:0{digits}d}".rstrip("0") if part else ""
    count = whole if not decimals else 2  # "one US dollar", "one point five US dollars"
    name = numbers.get_currency_name(currency, count=count, locale=babel_locale(locale))
    if locale == "zh":
        fraction = "点" + "".join(_ZH_DIGITS[int(d)] for d in decimals) if decimals else ""
        return zh_integer(whole) + fraction + name
    point = (" point " + " ".join(_EN_ONES[int(d)] for d in decimals)) if decimals else ""
    return f"{en_integer(whole)}{point} {name}"


def token(*, key: str, payee: str, amount_minor: int, currency: str) -> str:
    """What the read-back box carries: bound to this payment (its idempotency key), payee and amount."""
    secret = get_settings().security.secret_key.encode()
    message = f"atrium-readback|{key}|{payee}|{amount_minor}|{currency}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


def confirmed(submitted: str | None, *, key: str, payee: str, amount_minor: int, currency: str) -> bool:
    """Whether the person ticked the read-back of exactly this payment."""
    if not submitted:
        return False
    expected = token(key=key, payee=payee, amount_minor=amount_minor, currency=currency)
    return hmac.compare_digest(expected, submitted)
