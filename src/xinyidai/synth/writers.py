"""Feed files written block by block: CSV (UTF-8 or GB18030), Excel, JSON array, JSON Lines.

A writer renders amounts (integer fen) in its format, appends a block of rows and says where
each planted bad row landed: the physical line for CSV, JSON Lines and Excel (the header
is line 1 in CSV and Excel), the 0-based array index for JSON.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from xinyidai.synth.faults import Planted
from xinyidai.synth.feeds import ColumnKind, Columns, FeedSpec

# Stamped into Excel properties so runs are byte-identical; openpyxl takes naive times as UTC.
FIXED_TIME = datetime(2026, 1, 1)  # noqa: DTZ001
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_FIXED_STAMP = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fen_text(value: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


def _render(spec: FeedSpec, columns: Columns, target: str) -> Columns:
    """Columns in the writer's value types: CSV all text; JSON amounts as text with two
    decimals and counts as numbers; Excel amounts and counts as numbers."""
    rendered = []
    for column, values in zip(spec.columns, columns, strict=True):
        if column.kind == ColumnKind.AMOUNT:
            if target == "excel":
                values = [None if v is None else v / 100 for v in values]
            else:  # text with exactly two decimals, as departments' JSON APIs send money
                values = [
                    None if v is None else f"{v // 100}.{v % 100:02d}" if v >= 0 else _fen_text(v)
                    for v in values
                ]
        elif target == "text" and column.kind in (ColumnKind.INTEGER, ColumnKind.YEAR):
            values = [None if v is None else str(v) for v in values]
        if target == "text":
            values = ["" if v is None else v for v in values]
        rendered.append(values)
    return rendered


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _json_objects(spec: FeedSpec, columns: Columns) -> list[str]:
    """One JSON object per row, keys in header order, as ``json.dumps`` would write them.

    Built column by column from a template: a plain string needs only quotes around it, so
    ``json`` is called only for values with characters that must be escaped.
    """
    encode = json.JSONEncoder(ensure_ascii=False).encode
    template = "{" + ", ".join(encode(h).replace("%", "%%") + ": %s" for h in spec.headers) + "}"
    tokens = []
    for values in _render(spec, columns, "json"):
        column = [
            "null" if v is None else '"' + v + '"' if type(v) is str else encode(v) for v in values
        ]
        if _NEEDS_ESCAPE.search("".join([v for v in values if type(v) is str])):
            column = [encode(v) for v in values]
        tokens.append(column)
    return [template % row for row in zip(*tokens, strict=True)]


class FeedWriter:
    """Writes one feed file; ``append`` takes a block, ``close`` finishes the file."""

    def __init__(self, spec: FeedSpec, out_dir: Path) -> None:
        self.spec = spec
        self.path = out_dir / spec.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0

    def append(self, columns: Columns, planted: list[Planted]) -> list[tuple[Any, ...]]:
        """Write a block; return truth rows (path, line, index, column, reason)."""
        truth = [self._locate(p) for p in planted]
        count = len(columns[0]) if columns else 0
        if count:
            self._write(columns)
        self.rows += count
        return truth

    def _locate(self, planted: Planted) -> tuple[Any, ...]:
        raise NotImplementedError

    def _write(self, columns: Columns) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class CsvWriter(FeedWriter):
    def __init__(self, spec: FeedSpec, out_dir: Path) -> None:
        super().__init__(spec, out_dir)
        self.handle = self.path.open("w", encoding=spec.encoding, newline="")
        self.writer = csv.writer(self.handle, lineterminator=spec.line_end)
        self.writer.writerow(spec.headers)

    def _locate(self, planted: Planted) -> tuple[Any, ...]:
        return (
            self.spec.path,
            self.rows + planted.position + 2,
            "",
            planted.column,
            planted.reason,
        )

    def _write(self, columns: Columns) -> None:
        self.writer.writerows(zip(*_render(self.spec, columns, "text"), strict=True))

    def close(self) -> None:
        self.handle.close()


class JsonLinesWriter(FeedWriter):
    def __init__(self, spec: FeedSpec, out_dir: Path) -> None:
        super().__init__(spec, out_dir)
        self.handle = self.path.open("w", encoding="utf-8", newline="\n")

    def _locate(self, planted: Planted) -> tuple[Any, ...]:
        return (
            self.spec.path,
            self.rows + planted.position + 1,
            "",
            planted.column,
            planted.reason,
        )

    def _write(self, columns: Columns) -> None:
        self.handle.write("\n".join(_json_objects(self.spec, columns)) + "\n")

    def close(self) -> None:
        self.handle.close()


class JsonArrayWriter(FeedWriter):
    """A JSON array, one object a line, so that it streams and still reads as one document."""

    def __init__(self, spec: FeedSpec, out_dir: Path) -> None:
        super().__init__(spec, out_dir)
        self.handle = self.path.open("w", encoding="utf-8", newline="\n")
        self.handle.write("[")

    def _locate(self, planted: Planted) -> tuple[Any, ...]:
        return (self.spec.path, "", self.rows + planted.position, planted.column, planted.reason)

    def _write(self, columns: Columns) -> None:
        lead = "\n" if self.rows == 0 else ",\n"
        self.handle.write(lead + ",\n".join(_json_objects(self.spec, columns)))

    def close(self) -> None:
        self.handle.write("\n]\n")
        self.handle.close()


class XlsxWriter(FeedWriter):
    """openpyxl in write-only mode; dates of the package are fixed so output is reproducible."""

    def __init__(self, spec: FeedSpec, out_dir: Path) -> None:
        from openpyxl import Workbook

        super().__init__(spec, out_dir)
        self.workbook = Workbook(write_only=True)
        self.workbook.properties.creator = "xyd synth"
        self.workbook.properties.created = FIXED_TIME
        self.workbook.properties.modified = FIXED_TIME
        self.sheet = self.workbook.create_sheet(spec.title)
        self.sheet.append(spec.headers)

    def _locate(self, planted: Planted) -> tuple[Any, ...]:
        return (
            self.spec.path,
            self.rows + planted.position + 2,
            "",
            planted.column,
            planted.reason,
        )

    def _write(self, columns: Columns) -> None:
        append = self.sheet.append
        for row in zip(*_render(self.spec, columns, "excel"), strict=True):
            append(row)

    def close(self) -> None:
        draft = self.path.with_name(self.path.name + ".draft")
        try:
            self.workbook.save(draft)
            _write_reproducible_zip(draft, self.path)
        finally:
            draft.unlink(missing_ok=True)


def _write_reproducible_zip(source_path: Path, path: Path) -> None:
    """Re-pack a zip with fixed member times (openpyxl stamps the clock and temp files).

    Members are streamed, so memory stays small however large the sheet is.
    """
    with (
        zipfile.ZipFile(source_path) as source,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            if item.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                data = _MODIFIED.sub(rb"\g<1>" + _FIXED_STAMP + rb"\g<2>", source.read(item))
                target.writestr(info, data)
                continue
            info.file_size = item.file_size  # lets zipfile choose ZIP64 only when needed
            with source.open(item) as reader, target.open(info, "w") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)


WRITERS: dict[str, type[FeedWriter]] = {
    "csv": CsvWriter,
    "jsonl": JsonLinesWriter,
    "json": JsonArrayWriter,
    "xlsx": XlsxWriter,
}


def open_writer(spec: FeedSpec, out_dir: Path) -> FeedWriter:
    return WRITERS[spec.format](spec, out_dir)
