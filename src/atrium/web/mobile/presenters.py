"""Turning domain read models into what the pages show: labels, totals and grouped lists.

Pure functions of their inputs (plus a translator), so the pages stay thin and these are easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from atrium.accounts.schemas import DepositAccountRead, StatementEntryRead
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.i18n.formatting import local

# The bank's home currency is listed first wherever balances are summed.
HOME_CURRENCY = "CNY"


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    booked_minor: int
    available_minor: int
    accounts: int


def totals_by_currency(accounts: Iterable[DepositAccountRead]) -> list[CurrencyTotal]:
    """Sum of the open accounts' balances per currency (money is never added across currencies)."""
    sums: dict[str, list[int]] = {}
    for a in accounts:
        if a.status != "open":
            continue
        s = sums.setdefault(a.currency, [0, 0, 0])
        s[0] += a.booked_minor
        s[1] += a.available_minor
        s[2] += 1
    order = sorted(sums, key=lambda c: (c != HOME_CURRENCY, c))
    return [CurrencyTotal(c, sums[c][0], sums[c][1], sums[c][2]) for c in order]


def account_name(account: DepositAccountRead, t: Translator) -> str:
    return account.nickname or t(f"product.{account.product}")


def account_label(account: DepositAccountRead, t: Translator) -> str:
    """ "活期账户 ·1234": a name plus the last four digits, as pickers and summaries show it."""
    return f"{account_name(account, t)} ·{account.number[-4:]}"


def entry_title(entry: StatementEntryRead, t: Translator) -> str:
    """The statement line's words: its description, or the kind of movement when there is none."""
    kind_key = f"kind.{entry.kind}"
    description = entry.description.strip()
    if description and description != "Transfer":
        return description
    return t(kind_key) if t.has(kind_key) else t("kind.other")


def entry_icon(entry: StatementEntryRead) -> str:
    """The statement line's icon: a merchant for card and QR payments, arrows for transfers."""
    if entry.kind.startswith("qr"):
        return "store"
    if entry.kind.startswith("transfer"):
        return "transfer"
    return "wallet"


@dataclass(frozen=True)
class DatedEntry:
    """A statement entry with the account it belongs to (home's recent list spans accounts)."""

    entry: StatementEntryRead
    account: DepositAccountRead


def merge_recent(
    pages: Sequence[tuple[DepositAccountRead, Sequence[StatementEntryRead]]], limit: int
) -> list[DatedEntry]:
    items = [DatedEntry(e, a) for a, entries in pages for e in entries]
    items.sort(key=lambda d: (d.entry.posted_at, d.entry.journal_id), reverse=True)
    return items[:limit]


def local_day(at: datetime) -> date:
    return local(at).date()


def greeting_key(now: datetime) -> str:
    hour = local(now).hour
    if 5 <= hour < 12:
        return "home.greeting.morning"
    if 12 <= hour < 18:
        return "home.greeting.afternoon"
    return "home.greeting.evening"
