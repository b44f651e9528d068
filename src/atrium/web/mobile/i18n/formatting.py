"""Numbers, money and dates in the reader's locale, through Babel (CLDR data), never hand-built strings.

Money arrives as integer minor units plus an ISO 4217 code and is turned into a Decimal only here, for
display. Times are stored in UTC and shown in the bank's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates, numbers

from atrium.kit.money import exponent

# The bank serves customers in mainland China; statements and "today" follow Beijing time.
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")
_BABEL_LOCALE = {"zh": "zh_Hans_CN", "en": "en_US"}


def babel_locale(locale: str) -> str:
    return _BABEL_LOCALE.get(locale, "zh_Hans_CN")


def major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-exponent(currency))


def money(amount_minor: int, currency: str, locale: str, *, signed: bool = False) -> str:
    """`¥1,234.50` (zh) / `CN¥1,234.50` (en); `signed` adds '+' to credits, as statements show them."""
    text = numbers.format_currency(
        major(amount_minor, currency),
        currency,
        locale=babel_locale(locale),
        currency_digits=True,
        group_separator=True,
    )
    if signed and amount_minor > 0:
        text = "+" + text
    return text


def amount_plain(amount_minor: int, currency: str) -> str:
    """`1234.50`: the value an amount input is pre-filled with (inputs take no group separators)."""
    e = exponent(currency)
    return f"{major(amount_minor, currency):.{e}f}"


def currency_symbol(currency: str, locale: str) -> str:
    return numbers.get_currency_symbol(currency, locale=babel_locale(locale))


def currency_name(currency: str, locale: str) -> str:
    return numbers.get_currency_name(currency, locale=babel_locale(locale))


def percent(ratio: float, locale: str) -> str:
    return numbers.format_percent(ratio, locale=babel_locale(locale))


def local(at: datetime) -> datetime:
    return at.astimezone(DISPLAY_TZ)


def datetime_short(at: datetime, locale: str) -> str:
    return dates.format_datetime(at, "short", tzinfo=DISPLAY_TZ, locale=babel_locale(locale))


def datetime_medium(at: datetime, locale: str) -> str:
    return dates.format_datetime(at, "medium", tzinfo=DISPLAY_TZ, locale=babel_locale(locale))


def day(value: date | datetime, locale: str) -> str:
    """`11月27日` / `Nov 27`: the day heading of a statement group."""
    if isinstance(value, datetime):
        value = local(value).date()
    return dates.format_skeleton("MMMd", value, locale=babel_locale(locale))


def day_long(value: date | datetime, locale: str) -> str:
    if isinstance(value, datetime):
        value = local(value).date()
    return dates.format_date(value, "long", locale=babel_locale(locale))


def time_of_day(at: datetime, locale: str) -> str:
    return dates.format_time(at, "short", tzinfo=DISPLAY_TZ, locale=babel_locale(locale))
