"""Streaming readers for the tables departments send: CSV, Excel, JSON and JSON Lines.

Each reader yields ``(position, row)`` pairs one at a time — ``position`` is the line
number for text formats (the header is line 1), the sheet row for Excel, the 0-based
index for a JSON array — so a file of any size is read in flat memory. A file that is not
a table at all raises ``NotATable`` with the reason, before any row is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
from charset_normalizer import from_bytes

FORMATS = ("csv", "xlsx", "json", "jsonl")
SNIFF_BYTES = 256 * 1024


class NotATable(ValueError):
    """The file cannot be read as a table; ``reason`` is an English message id."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason.format(**params) if params else reason)
        self.reason = reason
        self.params = params


@dataclass
class Table:
    """A table being read: its headers, how it was decoded, and its rows as an iterator."""

    format: str
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Stop reading: close the row generator, and with it the file it reads."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def detect_format(path: Path, declared: str | None = None) -> str:
    """The format from ``declared`` or the file name's ending."""
    fmt = (declared or path.suffix).lower().lstrip(".")
    fmt = {"ndjson": "jsonl", "xls": "xlsx", "txt": "csv", "tsv": "csv"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise NotATable(
            "unsupported file format {format}: use CSV, Excel (.xlsx), JSON or JSON Lines",
            format=fmt or "(none)",
        )
    return fmt


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else GB18030 or what the detector says."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is not a decoding
            # failure (both encodings spell a character in at most four bytes).
            if exc.start >= len(sample) - 4:
                return encoding
    best = from_bytes(sample).best()
    if best is None:
        raise NotATable("the file is not text in a known encoding")
    return str(best.encoding)


def _looks_binary(sample: bytes) -> bool:
    return b"\x00" in sample[:4096]


def open_table(path: Path, fmt: str | None = None) -> Table:
    """Open ``path`` as a table (format from ``fmt`` or its ending)."""
    fmt = detect_format(path, fmt)
    if fmt == "xlsx":
        return _xlsx(path)
    handle = path.open("rb")
    try:
        sample = handle.read(SNIFF_BYTES)
        handle.seek(0)
        if not sample.strip():
            raise NotATable("the file is empty")
        if _looks_binary(sample):
            raise NotATable("the file is binary, not a {format} table", format=fmt.upper())
        if fmt == "csv":
            return _csv(handle, sample)
        if fmt == "jsonl":
            return _jsonl(handle, sample)
        return _json(handle, sample)
    except BaseException:
        handle.close()
        raise


def _csv(handle: IO[bytes], sample: bytes) -> Table:
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="strict")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample.decode(encoding, errors="ignore")[:8192], delimiters=",\t;|"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect)
    try:
        headers = next(reader)
    except StopIteration as exc:
        raise NotATable("the file is empty") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NotATable("the file cannot be read as CSV: {error}", error=str(exc)[:120]) from exc
    headers = [h.strip() for h in headers]
    if len([h for h in headers if h]) < 2:
        raise NotATable("the first line is not a header row of column names")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield reader.line_num, values
        finally:
            text.close()

    return Table("csv", headers, rows(), encoding=encoding)


def _jsonl(handle: IO[bytes], sample: bytes) -> Table:
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    lines = enumerate(text, start=1)
    first: tuple[int, dict[str, Any]] | None = None
    for number, line in lines:
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                text.close()
                raise NotATable("line {line} is not JSON", line=number) from exc
            if not isinstance(obj, dict):
                text.close()
                raise NotATable("JSON Lines rows must be objects")
            first = (number, obj)
            break
    if first is None:
        text.close()
        raise NotATable("the file is empty")
    headers = list(first[1].keys())

    def rows() -> Iterator[tuple[int, list[Any]]]:
        known = set(headers)
        try:
            yield first[0], _values(first[1], headers)
            for number, line in lines:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    yield number, [_Unreadable("line is not valid JSON")]
                    continue
                if not isinstance(obj, dict):
                    yield number, [_Unreadable("row is not a JSON object")]
                    continue
                if not known.issuperset(obj):
                    _extend_headers(headers, obj)
                    known.update(obj)
                yield number, _values(obj, headers)
        finally:
            text.close()

    return Table("jsonl", headers, rows(), encoding=encoding)


def _json(handle: IO[bytes], sample: bytes) -> Table:
    encoding = detect_encoding(sample)
    stripped = sample.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    if not stripped.startswith("["):
        raise NotATable("a JSON file must hold an array of row objects")
    if encoding not in ("utf-8", "utf-8-sig"):
        raise NotATable("JSON files must be UTF-8 (RFC 8259)")
    if encoding == "utf-8-sig":
        handle.read(3)
    items = ijson.items(handle, "item", use_float=False)
    try:
        first = next(items)
    except StopIteration as exc:
        handle.close()
        raise NotATable("the file holds no rows") from exc
    except ijson.JSONError as exc:
        handle.close()
        raise NotATable("the file is not valid JSON: {error}", error=str(exc)[:120]) from exc
    if not isinstance(first, dict):
        handle.close()
        raise NotATable("a JSON file must hold an array of row objects")
    headers = list(first.keys())

    def rows() -> Iterator[tuple[int, list[Any]]]:
        index = 0
        known = set(headers)
        try:
            yield index, _values(first, headers)
            while True:
                index += 1
                try:
                    obj = next(items)
                except StopIteration:
                    return
                except ijson.JSONError:
                    yield index, [_Unreadable("the rest of the file is not valid JSON")]
                    return
                if not isinstance(obj, dict):
                    yield index, [_Unreadable("row is not a JSON object")]
                    continue
                if not known.issuperset(obj):
                    _extend_headers(headers, obj)
                    known.update(obj)
                yield index, _values(obj, headers)
        finally:
            handle.close()

    return Table("json", headers, rows(), encoding=encoding)


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise NotATable("the file is not an Excel .xlsx workbook")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise NotATable("the workbook cannot be opened: {error}", error=str(exc)[:120]) from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    header_row: tuple[Any, ...] | None = None
    number = 0
    for number, values in enumerate(iterator, start=1):  # noqa: B007
        if values and any(v not in (None, "") for v in values):
            header_row = values
            break
    if header_row is None:
        workbook.close()
        raise NotATable("the workbook's first sheet is empty")
    headers = [str(h).strip() if h is not None else "" for h in header_row]
    if len([h for h in headers if h]) < 2:
        workbook.close()
        raise NotATable("the first line is not a header row of column names")
    start = number

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for offset, values in enumerate(iterator, start=start + 1):
                if not values or all(v in (None, "") for v in values):
                    continue
                yield offset, list(values)
        finally:
            workbook.close()

    return Table("xlsx", headers, rows(), encoding=None)


class _Unreadable:
    """Marks a row that could not be parsed at all; the reason goes to the rejection."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def unreadable_reason(values: list[Any]) -> str | None:
    if len(values) == 1 and isinstance(values[0], _Unreadable):
        return values[0].reason
    return None


def _extend_headers(headers: list[str], obj: dict[str, Any]) -> None:
    for key in obj:
        if key not in headers:
            headers.append(key)


def _values(obj: dict[str, Any], headers: list[str]) -> list[Any]:
    return [obj.get(h) for h in headers]
