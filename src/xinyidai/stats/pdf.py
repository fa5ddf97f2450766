"""A monthly bulletin as a PDF, written with fpdf2 and the report fonts of ``profile``
(Noto Sans CJK, cut to the characters reports use): the figures table, the year's trend of
loans as bars, the quarter's ranking and the notable changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xinyidai.core.i18n import gettext
from xinyidai.profile import fonts
from xinyidai.stats.models import Unit
from xinyidai.stats.sources import FIGURES


def shown(name: str, value: str | None) -> str:
    if value is None:
        return "—"
    unit = FIGURES[name].unit
    number = Decimal(value)
    if unit == Unit.YUAN:
        return f"¥{number:,.2f}"
    if unit == Unit.PERCENT:
        return f"{number}%"
    if unit == Unit.SECONDS:
        return f"{number:,.0f} s"
    return f"{number:,.0f}"


def _write(content: dict[str, Any], locale: str, faces: fonts.ReportFonts) -> tuple[bytes, bool]:
    from fpdf import FPDF

    def _(message: str, **params: Any) -> str:
        return gettext(message, locale, **params)

    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", fname=str(faces.regular.path), collection_font_number=faces.regular.number)
    pdf.add_font(
        "cjk", style="B", fname=str(faces.bold.path), collection_font_number=faces.bold.number
    )
    title = _("Monthly bulletin {month}", month=content["month"])
    pdf.set_title(title)
    pdf.set_author("XYD")
    pdf.add_page()
    pdf.set_font("cjk", style="B", size=16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, f"{content['start']} – {content['end']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (62, 32, 32, 22, 32)
    pdf.set_font("cjk", style="B", size=9)
    for width, head in zip(
        widths,
        (_("Figure"), _("This month"), _("Month before"), _("Change"), _("This year so far")),
        strict=True,
    ):
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("cjk", size=9)
    for row in content["figures"]:
        name = row["figure"]
        cells = (
            _(FIGURES[name].label),
            shown(name, row["month"]),
            shown(name, row["previous"]),
            "—" if row["change"] is None else f"{row['change']}%",
            shown(name, row["year"]),
        )
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 6, text, border=1)
        pdf.ln()
    amounts = content["trend"].get("loans_amount", [])
    values = [Decimal(v) if v is not None else Decimal(0) for _, v in amounts]
    if values and max(values) > 0:
        pdf.ln(4)
        pdf.set_font("cjk", style="B", size=11)
        pdf.cell(0, 8, _("Amount granted, by month"), new_x="LMARGIN", new_y="NEXT")
        top = max(values)
        left, base, height = pdf.l_margin, pdf.get_y() + 42, 40.0
        column = (pdf.w - pdf.l_margin - pdf.r_margin) / len(values)
        pdf.set_fill_color(11, 87, 164)
        pdf.set_font("cjk", size=6)
        for n, ((period, _value), value) in enumerate(zip(amounts, values, strict=True)):
            bar = float(value / top) * height
            pdf.rect(left + n * column + 1, base - bar, column - 2, bar, style="F")
            pdf.text(left + n * column + 1, base + 4, period[2:])
        pdf.set_y(base + 8)
    if content["ranking"]:
        pdf.set_font("cjk", style="B", size=11)
        pdf.cell(
            0, 8, _("Ranking of institutions, {quarter}", quarter=content["quarter"]),
            new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
        pdf.set_font("cjk", size=9)
        for item in content["ranking"]:
            pdf.cell(12, 6, str(item["rank"]), border=1)
            pdf.cell(120, 6, item["name"], border=1)
            pdf.cell(30, 6, item["score"], border=1)
            pdf.ln()
    if content["notable"]:
        pdf.ln(3)
        pdf.set_font("cjk", style="B", size=11)
        pdf.cell(0, 8, _("Notable changes"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        for item in content["notable"]:
            pdf.cell(
                0, 6, f"{_(FIGURES[item['figure']].label)}: {item['change']}%",
                new_x="LMARGIN", new_y="NEXT",
            )  # fmt: skip
    body = bytes(pdf.output())
    missing = any(getattr(font, "missing_glyphs", None) for font in pdf.fonts.values())
    return body, missing


def bulletin(content: dict[str, Any], *, locale: str) -> bytes:
    """The bulletin as a PDF in ``locale`` (the whole faces if the cut lacks a character)."""
    faces = fonts.report_fonts()
    body, missing = _write(content, locale, faces)
    if missing and faces.cut:
        regular, bold = fonts.whole_faces()
        body, _ = _write(content, locale, fonts.ReportFonts(regular, bold, False))
    return body
