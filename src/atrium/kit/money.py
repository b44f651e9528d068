"""Money is integer minor units plus an ISO 4217 currency code. Never a float.

`Money` is a small immutable value; arithmetic across currencies raises. Amount parsing from user text
goes through `parse_major`, which rejects anything that does not fit the currency's exponent exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, localcontext

from atrium.kit.errors import ValidationFailed

# Minor-unit exponents for the currencies Atrium supports. Adding one is a deliberate act (the ledger
# refuses unknown currencies), so this is a table, not a lookup in a library at run time.
CURRENCY_EXPONENT: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "HKD": 2,
    "GBP": 2,
    "JPY": 0,
    "PTS": 0,  # loyalty points: a ledger asset without decimals
}

# The largest amount any single movement may carry: 10^15 minor units (10 trillion CNY). It keeps every
# sum inside a signed 64-bit column with a wide margin, on SQLite and PostgreSQL alike.
MAX_AMOUNT_MINOR = 10**15


class CurrencyError(ValueError):
    """An unknown currency or a mix of currencies."""


class InvalidAmount(ValidationFailed, ValueError):
    """User text that is not an amount of the currency. A 422 problem if it reaches the edge uncaught;
    still a ValueError for callers that catch that."""

    code = "invalid-amount"
    title = "Not a valid amount"


def check_currency(code: str) -> str:
    if code not in CURRENCY_EXPONENT:
        raise CurrencyError(f"unsupported currency {code!r}")
    return code


def exponent(code: str) -> int:
    return CURRENCY_EXPONENT[check_currency(code)]


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-exponent(self.currency))

    def format_plain(self) -> str:
        """'1234.50 CNY' — for logs, CSV and tests; pages use Babel for the locale's own format."""
        e = exponent(self.currency)
        return f"{self.major:.{e}f} {self.currency}"

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)


# Digits with an optional sign, optional thousands separators in groups of three, optional decimals.
# Anything else is refused rather than guessed: "1,00" (a European decimal comma) must not become 100,
# and "1e3", "1_000" or "NaN" are not what a customer types.
_MAX_TEXT = 48
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+", re.ASCII)


def parse_major(text: str, currency: str) -> int:
    """'12.30' CNY -> 1230; '1,234.5' CNY -> 123450.

    Full-width digits and punctuation (Chinese input methods) are folded to ASCII first. Rejects more
    decimals than the currency has, exponents, misplaced separators, non-numbers and amounts beyond
    MAX_AMOUNT_MINOR, raising InvalidAmount (a ValueError and a 422 ValidationFailed).
    """
    e = exponent(currency)
    if not isinstance(text, str):
        raise InvalidAmount(f"not an amount: {text!r}")
    folded = unicodedata.normalize("NFKC", text).strip()
    if len(folded) > _MAX_TEXT or not _AMOUNT.fullmatch(folded):
        raise InvalidAmount(f"not an amount: {text[:_MAX_TEXT]!r}")
    # Exact arithmetic: the default 28-digit context would round "1.00…001" into an integral amount.
    with localcontext() as ctx:
        ctx.prec = 2 * _MAX_TEXT
        minor = Decimal(folded.replace(",", "")).scaleb(e)
    if minor != minor.to_integral_value():
        raise InvalidAmount(f"{currency} has {e} decimal places")
    if abs(minor) > MAX_AMOUNT_MINOR:
        raise InvalidAmount(f"amount beyond the largest allowed ({MAX_AMOUNT_MINOR} minor units)")
    return int(minor)
