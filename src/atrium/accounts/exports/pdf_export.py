"""A statement as PDF (fpdf2): bank, holder, masked account number, period, opening and closing balance,
one row per entry, totals, page numbers. Bilingual (English and Chinese) when a Chinese font exists on
the host; otherwise English and pinyin, with the footer saying why (see `fonts`)."""

from __future__ import annotations

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from atrium.accounts import domain
from atrium.accounts.exports.fonts import FontChoice, choose_fonts
from atrium.accounts.schemas import Statement

# (English, Chinese, pinyin) for every label the statement prints.
_LABELS: dict[str, tuple[str, str, str]] = {
    "title": ("Account statement", "账户对账单", "Zhanghu duizhangdan"),
    "holder": ("Account holder", "户名", "Huming"),
    "account": ("Account", "账号", "Zhanghao"),
    "product": ("Product", "产品", "Chanpin"),
    "currency": ("Currency", "币种", "Bizhong"),
    "period": ("Period", "账单周期", "Zhangdan zhouqi"),
    "opening": ("Opening balance", "期初余额", "Qichu yu'e"),
    "closing": ("Closing balance", "期末余额", "Qimo yu'e"),
    "in": ("Money in", "收入", "Shouru"),
    "out": ("Money out", "支出", "Zhichu"),
    "count": ("Entries", "笔数", "Bishu"),
    "date": ("Date", "日期", "Riqi"),
    "desc": ("Description", "摘要", "Zhaiyao"),
    "balance": ("Balance", "余额", "Yu'e"),
    "none": ("No entries in this period.", "本期无交易。", "Benqi wu jiaoyi."),
    "generated": ("Generated", "生成时间", "Shengcheng shijian"),
    "page": ("Page", "页", "Ye"),
    "totals": ("Totals", "合计", "Heji"),
}
_PRODUCT_ZH = {"current": ("活期账户", "Huoqi zhanghu"), "savings": ("储蓄账户", "Chuxu zhanghu")}
FALLBACK_NOTE = (
    "No font able to render Chinese was found on this server: Chinese labels are shown in pinyin and "
    "characters the font cannot draw are replaced by '?'."
)


class _StatementPDF(FPDF):
    def __init__(self, fonts: FontChoice, footer_lines: list[str]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.fonts_choice = fonts
        self.footer_lines = footer_lines
        self.sans = "Helvetica"
        self._cmap: set[int] | None = None
        if fonts.regular is not None:
            self.sans = "StatementSans"
            self.add_font(self.sans, "", str(fonts.regular.path), collection_font_number=fonts.regular.index)
            bold = fonts.bold or fonts.regular  # no bold face: headings stay regular, set apart by size
            self.add_font(self.sans, "B", str(bold.path), collection_font_number=bold.index)
            self._cmap = set(self.fonts[self.sans.lower()].cmap)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=22)

    def safe(self, text: str) -> str:
        """Replace what the font cannot draw, rather than print empty boxes (or fail on core fonts)."""
        if self._cmap is None:
            return text.encode("latin-1", "replace").decode("latin-1")
        return "".join(ch if ord(ch) in self._cmap or ch in "\n" else "?" for ch in text)

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font(self.sans, "", 7)
        self.set_text_color(110)
        for line in self.footer_lines:
            self.multi_cell(0, 3.2, self.safe(line), align="L", new_x="LMARGIN", new_y="NEXT")
        self.cell(
            0, 3.2, self.safe(f"{_label('page', self.fonts_choice.cjk)} {self.page_no()}/{{nb}}"), align="R"
        )
        self.set_text_color(0)


def _label(key: str, cjk: bool) -> str:
    en, zh, pinyin = _LABELS[key]
    return f"{en} {zh}" if cjk else f"{en} ({pinyin})"


def statement_pdf(statement: Statement) -> bytes:
    fonts = choose_fonts()
    cjk = fonts.cjk
    acct = statement.account
    cur = acct.currency

    def money(minor: int) -> str:
        return domain.major_text(minor, cur, grouped=True)

    footer = [
        f"{domain.BANK_NAME_EN} - {acct.masked_number} - "
        f"{statement.date_from.isoformat()} .. {statement.date_to.isoformat()}"
    ]
    if not cjk:
        footer.append(FALLBACK_NOTE)
    pdf = _StatementPDF(fonts, footer)
    pdf.set_title(f"{domain.BANK_NAME_EN} statement {acct.masked_number}")
    pdf.set_author(domain.BANK_NAME_EN)
    pdf.set_creation_date(statement.generated_at)
    pdf.add_page()
    f = pdf.sans

    bank = f"{domain.BANK_NAME_EN} {domain.BANK_NAME_ZH}" if cjk else domain.BANK_NAME_EN
    pdf.set_font(f, "B", 16)
    pdf.cell(0, 9, pdf.safe(bank), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, "", 12)
    pdf.cell(0, 7, pdf.safe(_label("title", cjk)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.ln(4)

    zh_product, py_product = _PRODUCT_ZH[acct.product]
    product = f"{acct.product.title()} {zh_product if cjk else '(' + py_product + ')'}"
    generated = statement.generated_at.astimezone(domain.BANK_TZ).strftime("%Y-%m-%d %H:%M CST")
    facts = [
        ("holder", statement.owner_name or "-"),
        ("account", acct.masked_number + (f"  ({acct.nickname})" if acct.nickname else "")),
        ("product", product),
        ("currency", cur),
        ("period", f"{statement.date_from.isoformat()} - {statement.date_to.isoformat()}"),
        ("generated", generated),
    ]
    pdf.set_font(f, "", 9)
    for key, value in facts:
        pdf.set_font(f, "B", 9)
        pdf.cell(62, 5.5, pdf.safe(_label(key, cjk)))
        pdf.set_font(f, "", 9)
        pdf.cell(0, 5.5, pdf.safe(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    t = statement.totals
    summary = [
        ("opening", money(statement.opening_balance_minor)),
        ("in", money(t.money_in_minor)),
        ("out", money(t.money_out_minor)),
        ("closing", money(statement.closing_balance_minor)),
    ]
    pdf.set_fill_color(235, 240, 248)
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(summary)
    pdf.set_font(f, "", 8)
    for key, _ in summary:
        pdf.cell(width, 6, pdf.safe(_label(key, cjk)), border="LTR", fill=True, align="C")
    pdf.ln()
    pdf.set_font(f, "B", 11)
    for _, value in summary:
        pdf.cell(width, 8, pdf.safe(f"{value} {cur}"), border="LBR", fill=True, align="C")
    pdf.ln(11)

    if not statement.entries:
        pdf.set_font(f, "", 10)
        pdf.cell(0, 8, pdf.safe(_label("none", cjk)), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    pdf.set_font(f, "", 8)
    headings = FontFace(emphasis="BOLD", fill_color=(40, 70, 120), color=(255, 255, 255))
    with pdf.table(
        col_widths=(31, 77, 24, 24, 24),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=headings,
        line_height=4.6,
        cell_fill_color=(246, 248, 252),
        cell_fill_mode=TableCellFillMode.ROWS,
        borders_layout="HORIZONTAL_LINES",
        repeat_headings=1,
        padding=(1, 1.2),
    ) as table:
        table.row([pdf.safe(_label(k, cjk)) for k in ("date", "desc", "in", "out", "balance")])
        for e in statement.entries:
            amount = money(e.amount_minor)
            desc = e.description or e.kind
            table.row(
                [
                    e.posted_at.astimezone(domain.BANK_TZ).strftime("%Y-%m-%d %H:%M"),
                    pdf.safe(desc),
                    amount if e.direction == "in" else "",
                    amount if e.direction == "out" else "",
                    money(e.balance_after_minor),
                ]
            )
        table.row(
            [
                pdf.safe(_label("totals", cjk)),
                pdf.safe(f"{_label('count', cjk)}: {t.count}"),
                money(t.money_in_minor),
                money(t.money_out_minor),
                money(statement.closing_balance_minor),
            ],
            style=FontFace(emphasis="BOLD"),
        )
    return bytes(pdf.output())


def pdf_filename(statement: Statement) -> str:
    tail = statement.account.number[-4:]
    return f"statement-{tail}-{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}.pdf"
