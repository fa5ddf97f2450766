"""The panoramic profile as a PDF credit report, with a Chinese font embedded.

fpdf2 writes the PDF (pure Python); the font is Noto Sans CJK from Debian's
``fonts-noto-cjk`` (``make install`` installs it), or any TrueType/OpenType font or
collection named by ``XYD_REPORT_FONT`` (and ``XYD_REPORT_FONT_BOLD``); see ``fonts`` for
the cut that makes it fast. Only the glyphs used are embedded. Every page carries the report number;
the first says when, for whom, for what and on which basis it was made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from xinyidai.consent.schemas import BASIS_LABELS, LEVEL_LABELS, PURPOSE_LABELS, REASON_LABELS
from xinyidai.core import clock
from xinyidai.core.i18n import gettext
from xinyidai.graph.schemas import KIND_LABELS, SIGNAL_LABELS
from xinyidai.market.schemas import STATE_LABELS
from xinyidai.profile import fonts
from xinyidai.profile.schemas import (
    PART_ASSOCIATIONS,
    PART_FINANCING,
    PART_LABELS,
    PART_RATING,
    ProfileOut,
)
from xinyidai.registry.schemas import STATUS_LABELS

SKIPPED_FIELDS = frozenset({"credit_code", "enterprise_name"})
MAX_RECORDS = 200  # per category in the PDF; the API and the page list all of them


def _money(value: Decimal | str | None) -> str:
    """Yuan; a desensitized amount (a range) as it is."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else f"¥{value:,.2f}"


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


class _Report:
    """One PDF being written: fonts, locale, and the few building blocks it is made of."""

    def __init__(self, profile: ProfileOut, locale: str, faces: fonts.ReportFonts) -> None:
        from fpdf import FPDF

        self.profile = profile
        self.locale = locale
        number = profile.report_number
        footer_text = self._("Report number {number} · page {page} of {pages}")

        class Document(FPDF):
            def footer(inner) -> None:  # noqa: N805 - fpdf's hook, inner is the document
                inner.set_y(-12)
                inner.set_font("cjk", size=7)
                inner.set_text_color(110)
                inner.cell(
                    0,
                    5,
                    footer_text.format(number=number, page=inner.page_no(), pages="{nb}"),
                    align="C",
                )
                inner.set_text_color(0)

        pdf = Document(format="A4")
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, margin=16)
        regular, bold = faces.regular, faces.bold
        pdf.add_font("cjk", fname=str(regular.path), collection_font_number=regular.number)
        pdf.add_font("cjk", style="B", fname=str(bold.path), collection_font_number=bold.number)
        for font in pdf.fonts.values():
            # The embedded subset keeps the face's bounding boxes: recomputing them from
            # every glyph's outline was most of the time a report took.
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.recalcBBoxes = False
        pdf.set_title(f"{self._('Credit report')} {profile.identity.name}")
        pdf.set_author("XYD")
        pdf.set_creator("XYD")
        pdf.set_subject(number)
        pdf.add_page()
        self.pdf = pdf

    def _(self, message: str, **params: Any) -> str:
        return gettext(message, self.locale, **params)

    def label(self, labels: dict[str, str], code: str | None) -> str:
        if code is None:
            return "—"
        return self._(labels[code]) if code in labels else code

    def when(self, moment: datetime) -> str:
        return clock.to_local(moment).strftime("%Y-%m-%d %H:%M")

    def heading(self, text: str, size: float = 12) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font("cjk", style="B", size=size)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)

    def paragraph(self, text: str, size: float = 9) -> None:
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    def facts(self, rows: Iterable[tuple[str, str]]) -> None:
        self.table([(k, v) for k, v in rows], widths=(45, 135), headings=False)

    def table(
        self,
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float] | None = None,
        headings: bool = True,
        size: float = 8,
    ) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        pdf.set_font("cjk", size=size)
        with pdf.table(
            col_widths=tuple(widths) if widths else None,
            first_row_as_headings=headings,
            headings_style=FontFace(emphasis="BOLD", fill_color=(232, 236, 241)),
            line_height=size * 0.55,
            text_align="LEFT",
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            for row in rows:
                line = table.row()
                for value in row:
                    line.cell(value)
        pdf.ln(2)

    # ------------------------------------------------------------------ the parts

    def cover(self) -> None:
        p = self.profile
        pdf = self.pdf
        pdf.set_font("cjk", style="B", size=18)
        pdf.cell(0, 11, self._("Credit report"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", style="B", size=13)
        pdf.cell(0, 8, p.identity.name, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        basis = self.label(BASIS_LABELS, p.basis)
        if p.letter_id:
            basis = f"{basis} · {p.letter_id}"
        rows = [
            (self._("Report number"), p.report_number),
            (self._("Unified social credit code"), p.identity.credit_code),
            (self._("Generated"), self.when(p.generated_at)),
            (self._("Viewer"), f"{p.viewer} · {p.organization}"),
            (self._("Purpose"), self.label(PURPOSE_LABELS, p.purpose)),
            (self._("Basis"), basis),
        ]
        if p.retain_until:
            rows.append((self._("Delete by"), p.retain_until.isoformat()))
        rows.append((self._("Access event"), p.access_event))
        self.facts(rows)
        self.paragraph(
            self._(
                "Made from the records the credit data center holds on the day above, shown "
                "as the viewer is entitled to see them; desensitized fields are marked. Use "
                "it only for the purpose above and delete it when it is no longer needed."
            ),
            size=8,
        )

    def identity(self) -> None:
        i = self.profile.identity
        self.heading(self._("Identity and registration"))
        region = " ".join(v for v in (i.region_name, i.region_code and f"({i.region_code})") if v)
        industry = " ".join(
            v for v in (i.industry_name, i.industry_code and f"({i.industry_code})") if v
        )
        self.facts(
            [
                (self._("Name"), i.name),
                (self._("Unified social credit code"), i.credit_code),
                (self._("Status"), self.label(STATUS_LABELS, i.status)),
                (self._("Legal representative"), _text(i.legal_representative)),
                (self._("Registered capital"), _money(i.registered_capital)),
                (self._("Established"), _text(i.established_on)),
                (self._("Region"), region or "—"),
                (self._("Industry"), industry or "—"),
                (self._("Address"), _text(i.address)),
            ]
        )

    def rating(self) -> None:
        p = self.profile
        self.heading(self._("Credit rating"))
        if p.rating is None:
            self.withheld_line(PART_RATING)
            return
        r = p.rating
        self.facts(
            [
                (self._("Grade"), r.grade),
                (self._("Score"), f"{round(r.score)}"),
                (self._("Probability of default within a year"), f"{r.probability:.2%}"),
                (self._("As of"), r.as_of.isoformat()),
                (self._("Model version"), r.model_version),
            ]
        )
        if r.reasons:
            rows = [[self._("What lowers the score"), self._("Code"), self._("Points")]]
            rows += [[x.text, x.code, f"{round(x.impact)}"] for x in r.reasons]
            self.table(rows, widths=(120, 40, 20))
        if len(p.rating_trend) > 1:
            rows = [[self._("As of"), self._("Score"), self._("Grade"), self._("Model version")]]
            rows += [
                [t.as_of.isoformat(), f"{round(t.score)}", t.grade, t.model_version]
                for t in p.rating_trend
            ]
            self.heading(self._("Rating trend"), size=10)
            self.table(rows, widths=(35, 25, 25, 95))

    def lists(self) -> None:
        p = self.profile
        self.heading(self._("Red and black lists"))
        listed = p.financial_blacklist
        if listed is not None:
            self.paragraph(
                self._(
                    "Financial blacklist: listed from {start} to {end} on the proposal of "
                    "{institution}: {reason}",
                    start=self.when(listed.listed_from),
                    end=self.when(listed.listed_until),
                    institution=listed.institution_name,
                    reason=listed.reason,
                )
            )
        if not p.lists:
            self.paragraph(self._("No list category is in this report."))
            return
        rows = [[self._("List"), self._("Now"), self._("Since"), self._("Earlier, removed")]]
        for entry in p.lists:
            name = entry.name_zh if self.locale == "zh_CN" else entry.name_en
            now = self._("on the list") if entry.on_list else self._("not on the list")
            rows.append([name, now, _text(entry.since), str(entry.removed)])
        self.table(rows, widths=(70, 40, 35, 35))

    def financing(self) -> None:
        p = self.profile
        self.heading(self._("Financing on the platform"))
        f = p.financing
        if f is None:
            self.withheld_line(PART_FINANCING)
            return
        if f.scope != "all":
            self.paragraph(self._("Only the applications and loans of your institution."))
        self.facts(
            [
                (self._("Financing applications"), str(len(f.applications))),
                (self._("Approved"), str(f.approved)),
                (self._("Loans"), str(len(f.loans))),
                (self._("Outstanding balance"), _money(f.outstanding)),
                (self._("Loans in default"), str(f.in_default)),
            ]
        )
        if f.loans:
            rows = [
                [
                    self._("Contract"),
                    self._("Institution"),
                    self._("Principal"),
                    self._("Balance"),
                    self._("Term"),
                    self._("State"),
                ]
            ]
            rows += [
                [
                    loan.contract_number,
                    loan.institution_name,
                    _money(loan.principal),
                    _money(loan.balance),
                    f"{loan.start_on.isoformat()} – {loan.maturity_on.isoformat()}",
                    self.label(STATE_LABELS, loan.state),
                ]
                for loan in f.loans
            ]
            self.table(rows, widths=(36, 36, 26, 26, 36, 20), size=7)
        if f.applications:
            rows = [
                [
                    self._("Submitted"),
                    self._("Product"),
                    self._("Institution"),
                    self._("Amount"),
                    self._("State"),
                ]
            ]
            rows += [
                [
                    self.when(a.submitted_at),
                    a.product_name,
                    a.institution_name,
                    _money(a.amount),
                    self.label(STATE_LABELS, a.state),
                ]
                for a in f.applications
            ]
            self.table(rows, widths=(30, 50, 40, 35, 25), size=7)

    def associations(self) -> None:
        p = self.profile
        self.heading(self._("Associations"))
        found = p.associations
        if found is None:
            self.withheld_line(PART_ASSOCIATIONS)
            return
        others = [n for n in found.nodes if n.distance > 0]
        if not others:
            self.paragraph(self._("No linked enterprise found in the records."))
            return
        kinds: dict[str, set[str]] = {}
        for edge in found.edges:
            for code in (edge.source, edge.target):
                kinds.setdefault(code, set()).add(edge.kind)
        rows = [
            [
                self._("Enterprise"),
                self._("Links away"),
                self._("Links"),
                self._("Bad signals now"),
            ]
        ]
        for node in others:
            rows.append(
                [
                    f"{node.name or ''} {node.code}".strip(),
                    str(node.distance),
                    "、".join(self.label(KIND_LABELS, k) for k in sorted(kinds.get(node.code, ()))),
                    "、".join(self.label(SIGNAL_LABELS, s) for s in node.signals) or "—",
                ]
            )
        self.table(rows, widths=(62, 18, 60, 40), size=7)
        for circle in found.circles:
            names = [n or c for n, c in zip(circle.names, circle.members, strict=False)]
            self.paragraph(self._("Guarantee circle") + ": " + " → ".join(names), size=8)

    def records(self, labels: dict[str, dict[str, tuple[str, str]]]) -> None:
        self.heading(self._("Records by category"))
        report = self.profile.report
        for note in report.notes:
            what = (
                self._("Reorganization approved by the court")
                if note.kind == "reorganization_approved"
                else self._("Reorganization plan executed")
            )
            line = f"{note.decided_on.isoformat()} · {what} · {note.source} {note.text}"
            self.paragraph(line, size=8)
        if not report.sections:
            self.paragraph(self._("No record is in this report."))
        for section in report.sections:
            name = section.name_zh if self.locale == "zh_CN" else section.name_en
            level = self.label(LEVEL_LABELS, section.level)
            basis = self.label(BASIS_LABELS, section.basis)
            self.heading(f"{name} · {level} · {basis}", size=10)
            shown = [
                n
                for n, view in section.fields.items()
                if view.view != "withheld" and n not in SKIPPED_FIELDS
            ]
            names = labels.get(section.category, {})
            heads = []
            for n in shown:
                zh, en = names.get(n, (n, n))
                head = zh if self.locale == "zh_CN" else en
                if section.fields[n].view == "masked":
                    head += "*"
                heads.append(head)
            records = section.records[:MAX_RECORDS]
            marked = any(r.marks for r in records)
            if marked:
                heads.append(self._("Note"))
            if records:
                self.table(
                    [heads]
                    + [
                        [_text(r.data.get(n)) for n in shown]
                        + ([self._mark(r.marks)] if marked else [])
                        for r in records
                    ],
                    size=6.5 if len(shown) > 6 else 7.5,
                )
            if len(section.records) > len(records):
                self.paragraph(
                    self._(
                        "{shown} of {total} records shown; the portal and the API list all.",
                        shown=len(records),
                        total=len(section.records),
                    ),
                    size=8,
                )
            if section.hidden_expired:
                self.paragraph(
                    self._(
                        "{count} negative records are past their disclosure period and not shown.",
                        count=section.hidden_expired,
                    ),
                    size=8,
                )
        self.paragraph(self._("* desensitized: shown in part, as the grading rules say."), 7)

    def _mark(self, marks: list[str]) -> str:
        """What the report prints beside a marked record."""
        notes = []
        if "self_reported" in marks:
            notes.append(self._("Self-reported"))
            if "confirmed" in marks:
                notes.append(self._("confirmed by a department"))
        if "before_restructuring" in marks:
            notes.append(self._("Before the restructuring"))
        if "objection" in marks:
            notes.append(self._("Objection in progress"))
        return " · ".join(notes)

    def withheld_line(self, part: str) -> None:
        reason = self.profile.withheld.get(part)
        self.paragraph(
            self._("Not in this report") + ": " + self.label(REASON_LABELS, reason), size=8
        )

    def withheld(self) -> None:
        p = self.profile
        if not p.withheld:
            return
        self.heading(self._("Not in this report"))
        rows = [[self._("Part or category"), self._("Why")]]
        for code, reason in sorted(p.withheld.items()):
            part = self.label(PART_LABELS, code) if code in PART_LABELS else code
            rows.append([part, self.label(REASON_LABELS, reason)])
        self.table(rows, widths=(80, 100))


def _write(
    profile: ProfileOut,
    locale: str,
    field_labels: dict[str, dict[str, tuple[str, str]]],
    faces: fonts.ReportFonts,
) -> tuple[bytes, bool]:
    """The PDF, and whether a character was missing from the faces."""
    report = _Report(profile, locale, faces)
    report.cover()
    report.identity()
    report.rating()
    report.lists()
    report.financing()
    report.associations()
    report.records(field_labels)
    report.withheld()
    body = bytes(report.pdf.output())
    missing = any(getattr(font, "missing_glyphs", None) for font in report.pdf.fonts.values())
    return body, missing


def render(
    profile: ProfileOut,
    *,
    locale: str,
    field_labels: dict[str, dict[str, tuple[str, str]]],
) -> bytes:
    """The profile as a PDF credit report in ``locale``; ``field_labels`` gives each
    category's field names in Chinese and English (``profile.service.field_labels``).

    Written with the cut faces when they are prepared; if the text needs a character the
    cut lacks, written again with the whole faces."""
    faces = fonts.report_fonts()
    body, missing = _write(profile, locale, field_labels, faces)
    if missing and faces.cut:
        regular, bold = fonts.whole_faces()
        body, _ = _write(profile, locale, field_labels, fonts.ReportFonts(regular, bold, False))
    return body
