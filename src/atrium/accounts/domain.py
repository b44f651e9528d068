"""Pure rules of deposit accounts: products, account numbers, masking, the bank's calendar and interest.

No SQLAlchemy, no FastAPI: everything here is tested without a database.

Interest maths. A savings balance earns `rate_bp` basis points a year on the ACT/365 (Fixed) basis: one
day's interest on `balance_minor` is exactly `balance_minor * rate_bp / (10_000 * 365)` minor units. We keep
that exact rational value with integers only: the numerator `balance_minor * rate_bp` is added to a
per-account carry counted in units of 1/`DAY_DENOMINATOR` of a minor unit; the whole minor units are
accrued for the day and the remainder stays in the carry for the next day. So after any run of days
`sum(accrued) * DAY_DENOMINATOR + carry_after == carry_before + sum(balance * rate_bp)` — nothing is lost to
rounding; at most one minor unit is "in flight" in the carry.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Literal

from atrium.kit.money import exponent

# The bank keeps China Standard Time. China has no daylight saving, so a fixed offset is exact and needs
# no tz database on the host. Statement periods and interest days are bank-local calendar days.
BANK_TZ = timezone(timedelta(hours=8), "CST")
BANK_NAME_EN = "Atrium Bank"
BANK_NAME_ZH = "中庭银行"
# Issuer prefix of Atrium's 19-digit account numbers (the "bank identification number").
BANK_BIN = "622288"
NUMBER_LENGTH = 19

ProductCode = Literal["current", "savings"]
AccountStatus = Literal["open", "closed"]
PRODUCT_CODES: tuple[str, ...] = ("current", "savings")

# A customer may hold at most this many open deposit accounts: enough for real use, and it stops a
# script from opening ledger accounts without bound.
MAX_OPEN_ACCOUNTS_PER_CUSTOMER = 20

DAYS_IN_YEAR = 365  # ACT/365 Fixed: leap years still divide by 365
BASIS_POINTS = 10_000
DAY_DENOMINATOR = BASIS_POINTS * DAYS_IN_YEAR


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name_en: str
    name_zh: str
    currencies: frozenset[str]
    earns_interest: bool


PRODUCTS: dict[str, Product] = {
    "current": Product(
        "current",
        "Current account",
        "活期账户",
        frozenset({"CNY", "USD", "EUR", "HKD", "GBP"}),
        earns_interest=False,
    ),
    "savings": Product(
        "savings", "Savings account", "储蓄账户", frozenset({"CNY", "USD"}), earns_interest=True
    ),
}


class RuleError(ValueError):
    """A pure rule refused the input; the service turns it into the matching domain error."""


def product(code: str) -> Product:
    try:
        return PRODUCTS[code]
    except KeyError:
        raise RuleError(f"unknown product {code!r}; choose one of {', '.join(PRODUCT_CODES)}") from None


def annual_rate_bp(code: str, savings_rate_bp: int) -> int:
    """The product's yearly rate in basis points: savings pay the bank's rate (from
    settings.ledger.savings_rate_bp, passed in so this module stays pure); current accounts pay nothing."""
    if savings_rate_bp < 0:
        raise RuleError("an interest rate is never negative")
    return savings_rate_bp if product(code).earns_interest else 0


def check_product_currency(code: str, currency: str) -> Product:
    p = product(code)
    if currency not in p.currencies:
        raise RuleError(f"a {code} account is offered in {', '.join(sorted(p.currencies))}, not {currency}")
    return p


def major_text(amount_minor: int, currency: str, *, grouped: bool = False) -> str:
    """1234 CNY -> '12.34' (grouped: 123456789 -> '1,234,567.89'): the currency's own decimals, no floats."""
    e = exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-e):{',' if grouped else ''}.{e}f}"


def format_amount(amount_minor: int, currency: str) -> str:
    return f"{major_text(amount_minor, currency)} {currency}"


# --- account numbers ---------------------------------------------------------------------------------


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn check (ISO/IEC 7812-1)."""
    if not payload.isdigit():
        raise RuleError("an account number has only digits")
    total = 0
    # Walking from the right, the digit next to the check digit is doubled, then every second one.
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def new_account_number(random_digits: Callable[[int], str]) -> str:
    """BIN + random serial + Luhn digit, 19 digits. `random_digits(n)` returns n random decimal digits."""
    serial = random_digits(NUMBER_LENGTH - len(BANK_BIN) - 1)
    payload = BANK_BIN + serial
    if len(payload) != NUMBER_LENGTH - 1 or not payload.isdigit():
        raise RuleError("the serial must be decimal digits of the right length")
    return payload + luhn_check_digit(payload)


def normalise_number(text: str) -> str:
    """Accept the way people type card-like numbers ("6222 8800 …", "6222-8800-…")."""
    return re.sub(r"[\s-]", "", text)


def check_number(text: str) -> str:
    number = normalise_number(text)
    if len(number) != NUMBER_LENGTH or not number.isdigit():
        raise RuleError(f"an account number has {NUMBER_LENGTH} digits")
    if not luhn_valid(number):
        raise RuleError("that account number has a typo (its check digit does not match)")
    return number


def mask_number(number: str) -> str:
    """'6222880123456781234' -> '6222 **** **** 1234': enough to recognise, not enough to use."""
    return f"{number[:4]} **** **** {number[-4:]}"


def mask_name(name: str) -> str:
    """Show a payer just enough of the payee's name to confirm it.

    '张三' -> '*三', 'Alice Wang' -> 'A**** W***'.

    Chinese names keep the last character (the convention of Chinese banks); other names keep the first
    letter of each word.
    """
    name = " ".join(name.split())
    if not name:
        return ""
    if any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in name):
        compact = name.replace(" ", "")
        return "*" * (len(compact) - 1) + compact[-1] if len(compact) > 1 else "*"
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split(" "))


def clean_nickname(text: str | None) -> str | None:
    """Trim a nickname; empty means none. Control characters are refused (they break statements and logs)."""
    if text is None:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > 40:
        raise RuleError("a nickname has at most 40 characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise RuleError("a nickname cannot contain control characters")
    return text


# --- the bank's calendar ------------------------------------------------------------------------------


def local_date(at: datetime) -> date:
    return at.astimezone(BANK_TZ).date()


def day_start(day: date) -> datetime:
    """The UTC instant at which bank-local `day` begins."""
    return datetime.combine(day, time.min, BANK_TZ).astimezone(UTC)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(text: str) -> tuple[date, date]:
    """'2025-03' -> (first day, last day) of that month."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise RuleError(f"a period is written YYYY-MM, not {text!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])


def days(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


# --- interest ----------------------------------------------------------------------------------------


def accrue_day(balance_minor: int, rate_bp: int, carry: int) -> tuple[int, int]:
    """One day's interest: (whole minor units accrued today, carry for tomorrow).

    An overdrawn or empty balance earns nothing (and never takes back what was carried).
    """
    if rate_bp < 0 or carry < 0:
        raise RuleError("interest rates and carries are never negative")
    earning = max(balance_minor, 0) * rate_bp + carry
    return divmod(earning, DAY_DENOMINATOR)


def accrue_days(balances: Iterable[int], rate_bp: int, carry: int = 0) -> tuple[list[int], int]:
    """Accrue a run of end-of-day balances; returns each day's whole amount and the final carry."""
    amounts = []
    for b in balances:
        amount, carry = accrue_day(b, rate_bp, carry)
        amounts.append(amount)
    return amounts, carry


# --- statements ------------------------------------------------------------------------------------

Direction = Literal["in", "out"]


def entry_direction(side: str) -> Direction:
    """A deposit account is a bank liability: a credit is money in, a debit money out."""
    return "in" if side == "credit" else "out"


def guard_spreadsheet_text(text: str) -> str:
    """Neutralise CSV formula injection (OWASP): a cell that starts with = + - @ or a control char is
    prefixed with an apostrophe, so a payer's memo cannot run as a formula in the customer's Excel."""
    if text and (text[0] in "=+-@" or text[0] in "\t\r\n"):
        return "'" + text
    return text
