"""A statement as CSV: UTF-8 with a byte-order mark (so Excel opens Chinese text correctly), one row per
entry oldest first, amounts in major units with the currency's own decimals (never floats)."""

from __future__ import annotations

import csv
import io

from atrium.accounts import domain
from atrium.accounts.schemas import Statement

COLUMNS = ("posted_at", "description", "kind", "money_in", "money_out", "balance", "currency", "reference")
HEADERS = {
    "en": (
        "Date and time",
        "Description",
        "Type",
        "Money in",
        "Money out",
        "Balance",
        "Currency",
        "Reference",
    ),
    "zh": ("交易时间", "摘要", "交易类型", "收入", "支出", "余额", "币种", "流水号"),
}


def statement_csv(statement: Statement, *, lang: str = "zh") -> bytes:
    currency = statement.account.currency
    buf = io.StringIO(newline="")
    # CRLF line ends, as RFC 4180 and Excel expect.
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS.get(lang, HEADERS["en"]))
    for e in statement.entries:
        amount = domain.major_text(e.amount_minor, currency)
        writer.writerow(
            [
                e.posted_at.astimezone(domain.BANK_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                domain.guard_spreadsheet_text(e.description),
                domain.guard_spreadsheet_text(e.kind),
                amount if e.direction == "in" else "",
                amount if e.direction == "out" else "",
                domain.major_text(e.balance_after_minor, currency),
                currency,
                e.journal_id,
            ]
        )
    return buf.getvalue().encode("utf-8-sig")


def csv_filename(statement: Statement) -> str:
    tail = statement.account.number[-4:]
    return f"statement-{tail}-{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}.csv"
