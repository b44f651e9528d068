"""CSV and PDF statements: the CSV parses back to the ledger's numbers; the PDF is a real multi-page PDF."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from atrium.accounts import service
from atrium.accounts.exports import csv_export, fonts, pdf_export, statement_csv, statement_pdf
from tests.accounts import factories as f


def _cst(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture()
def statement(session, frozen):  # type: ignore[no-untyped-def]
    c = f.customer(session, display_name="王小明 Wang")
    acct = f.account(session, c.id, "current", "USD", nickname="Travel")
    f.deposit(session, acct, 100_00, at=_cst(2025, 2, 27), description="opening deposit")
    f.deposit(session, acct, 2_500_05, at=_cst(2025, 3, 1), description="工资 March salary", kind="payroll")
    f.withdraw(session, acct, 99, at=_cst(2025, 3, 2), description='=HYPERLINK("http://evil")')
    f.withdraw(session, acct, 12_34, at=_cst(2025, 3, 3, 9), description='咖啡 coffee, "large"')
    return service.period_statement(
        session, customer_id=c.id, account_id=acct.id, date_from=date(2025, 3, 1), date_to=date(2025, 3, 9)
    )


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_csv_has_a_bom_and_parses_back(statement) -> None:
    raw = statement_csv(statement, lang="zh")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(csv_export.HEADERS["zh"])
    body = [dict(zip(csv_export.COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [r["posted_at"] for r in body] == [
        "2025-03-01 12:00:00",
        "2025-03-02 12:00:00",
        "2025-03-03 09:00:00",
    ]
    assert [r["money_in"] for r in body] == ["2500.05", "", ""]
    assert [r["money_out"] for r in body] == ["", "0.99", "12.34"]
    assert [r["balance"] for r in body] == ["2600.05", "2599.06", "2586.72"]
    assert body[0]["description"] == "工资 March salary" and body[0]["kind"] == "payroll"
    assert body[1]["description"].startswith("'=")  # formula injection neutralised
    assert body[2]["description"] == '咖啡 coffee, "large"'  # quoting round-trips
    assert {r["currency"] for r in body} == {"USD"}
    assert [r["reference"] for r in body] == [e.journal_id for e in statement.entries]
    # The numbers add up from the opening balance (100.00) to the closing one, in exact decimals.
    total = Decimal("100.00") + sum(Decimal(r["money_in"] or 0) - Decimal(r["money_out"] or 0) for r in body)
    assert total == Decimal(body[-1]["balance"])
    assert rows[0] != list(csv_export.HEADERS["en"])
    assert statement_csv(statement, lang="en").decode("utf-8-sig").startswith("Date and time,Description")
    assert csv_export.csv_filename(statement).endswith("-20250301-20250309.csv")


def test_pdf_is_a_proper_statement(statement, tmp_path: Path) -> None:
    pdf = statement_pdf(statement)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert _pdf_pages(pdf) == 1
    out = tmp_path / "statement.pdf"
    out.write_bytes(pdf)
    pdftotext = shutil.which("pdftotext")
    if pdftotext:  # poppler is optional on a developer machine; the structure checks above always run
        text = subprocess.run(  # noqa: S603 - a fixed tool on our own file
            [pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
        for needle in (
            "Atrium Bank",
            statement.account.masked_number,
            "2025-03-01 - 2025-03-09",
            "Opening balance",
            "100.00",
            "Closing balance",
            "2,586.72",
            "2,500.05",
            "12.34",
        ):
            assert needle in text, needle
        if not fonts.choose_fonts().cjk:
            assert "No font able to render Chinese" in " ".join(text.split())


def test_pdf_runs_over_several_pages_with_totals(session, frozen) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id)
    for i in range(90):
        f.deposit(session, acct, 100 + i, at=_cst(2025, 3, 1 + i % 9, 8), description=f"transfer {i} 转账")
    st = service.period_statement(session, customer_id=c.id, account_id=acct.id)
    pdf = statement_pdf(st)
    assert _pdf_pages(pdf) >= 2
    assert st.totals.count == 90 and st.totals.money_in_minor == sum(100 + i for i in range(90))


def test_pdf_of_an_empty_period(session, frozen) -> None:
    c = f.customer(session)
    acct = f.account(session, c.id, "savings")
    st = service.period_statement(session, customer_id=c.id, account_id=acct.id)
    assert st.entries == [] and statement_pdf(st).startswith(b"%PDF-")


def test_font_fallback_without_any_truetype_font(statement, monkeypatch) -> None:
    """With no usable font at all the statement still prints, in core Helvetica, with the note."""
    monkeypatch.setattr(pdf_export, "choose_fonts", lambda: fonts.FontChoice(None, None, cjk=False))
    pdf = statement_pdf(statement)
    assert pdf.startswith(b"%PDF-") and _pdf_pages(pdf) == 1


def test_font_discovery_reads_fontconfig(monkeypatch) -> None:
    listing = [
        (Path("/f/NotoSansCJK-Regular.ttc"), 1, "Noto Sans CJK HK", "Regular"),
        (Path("/f/NotoSansCJK-Regular.ttc"), 2, "Noto Sans CJK SC", "Regular"),
        (Path("/f/NotoSansCJK-Bold.ttc"), 2, "Noto Sans CJK SC", "Bold"),
        (Path("/f/NotoSerifCJK-Regular.ttc"), 2, "Noto Serif CJK SC", "Regular"),
    ]
    monkeypatch.setattr(fonts, "_fc_list", lambda *p: listing if p == (":lang=zh",) else [])
    fonts.choose_fonts.cache_clear()
    try:
        choice = fonts.choose_fonts()
        assert choice.cjk and choice.regular == fonts.FontFace(Path("/f/NotoSansCJK-Regular.ttc"), 2)
        assert choice.bold == fonts.FontFace(Path("/f/NotoSansCJK-Bold.ttc"), 2)
    finally:
        fonts.choose_fonts.cache_clear()
