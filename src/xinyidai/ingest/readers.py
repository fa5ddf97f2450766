"""Streaming readers for the tables departments send: CSV, Excel (.xlsx, and the legacy
.xls through calamine), JSON and JSON Lines.

Each reader yields ``(position, row)`` pairs one at a time — ``position`` is the line
number for text formats (the header is line 1), the sheet row for Excel, the 0-based
index for a JSON array — so a file of any size is read in flat memory. A file that is not
a table at all raises ``NotATable`` with the reason, before any row is read; one that breaks
while its rows are read (bytes of another encoding, a runaway line or field, more rows than
a file may hold) raises ``ReadFailed`` from the row iterator, after the rows before it.

What a hostile file could make the reader hold or do is bounded by ``Limits`` (from the
``XYD_INGEST_MAX_*`` settings): rows per file and empty rows in a row, columns of the
header (an Excel row is read only up to the header's width), the length of a text line and
of a CSV field, and what a workbook unpacks to (its parts together, and each part that is
read whole, the shared strings above all), checked from the archive's directory before
anything is unpacked.
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

from xinyidai.core.settings import get_settings

FORMATS = ("csv", "xlsx", "json", "jsonl")
SNIFF_BYTES = 256 * 1024
MIB = 1024 * 1024
# A row with values past the header's width keeps this many of them in its rejection.
WIDE_KEPT = 16
WIDER_THAN_HEADER = "row has {count} values but the header has {headers} columns"
# Worksheets are read as a stream; every other XML part of a workbook is parsed whole.
_STREAMED_PARTS = "xl/worksheets/"


class NotATable(ValueError):
    """The file cannot be read as a table; ``reason`` is an English message id."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason.format(**params) if params else reason)
        self.reason = reason
        self.params = params

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt with its message id and values when a validating child hands it over.
        return (_rebuilt, (type(self), self.reason, self.params))


def _rebuilt(cls: type[NotATable], reason: str, params: dict[str, Any]) -> NotATable:
    return cls(reason, **params)


class ReadFailed(NotATable):
    """The file broke while its rows were read: the rows before ``params["line"]`` were
    read, none from it on."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason, **params)
        self.line = int(params["line"])


@dataclass(frozen=True)
class Limits:
    """What one file may make the reader hold or do (``XYD_INGEST_MAX_*``)."""

    rows: int = 5_000_000
    empty_rows: int = 10_000
    columns: int = 1000
    field_chars: int = 64 * 1024
    line_chars: int = 256 * 1024
    unzipped_bytes: int = 1024 * MIB
    whole_part_bytes: int = 100 * MIB

    @classmethod
    def from_settings(cls) -> Limits:
        settings = get_settings()
        return cls(
            rows=settings.ingest.max_rows,
            empty_rows=settings.ingest.max_empty_rows,
            columns=settings.ingest.max_columns,
            field_chars=settings.ingest.max_field_kb * 1024,
            line_chars=settings.ingest.max_line_kb * 1024,
            unzipped_bytes=settings.ingest.max_unzipped_mb * MIB,
            whole_part_bytes=settings.ingest.max_shared_strings_mb * MIB,
        )


def _too_many_rows(line: int, limit: int) -> ReadFailed:
    return ReadFailed(
        "the file has more than {limit} rows: split it into smaller files", line=line, limit=limit
    )


def _too_many_empty_rows(line: int, limit: int) -> ReadFailed:
    return ReadFailed(
        "more than {limit} empty rows in a row from line {line}: remove the empty rows and "
        "send the file again",
        line=line,
        limit=limit,
    )


class _Counter:
    """Counts the rows of a file, empty ones included, against its limits."""

    __slots__ = ("empty", "empty_from", "limits", "read")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.read = 0
        self.empty = 0
        self.empty_from = 0

    def row(self, line: int) -> None:
        self._count(line)
        self.empty = 0

    def _count(self, line: int) -> None:
        self.read += 1
        if self.read > self.limits.rows:
            raise _too_many_rows(line, self.limits.rows)

    def blank(self, line: int) -> None:
        self._count(line)
        if not self.empty:
            self.empty_from = line
        self.empty += 1
        if self.empty > self.limits.empty_rows:
            raise _too_many_empty_rows(self.empty_from, self.limits.empty_rows)


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
            "unsupported file format {format}: use CSV, Excel (.xlsx or .xls), JSON or JSON Lines",
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


def open_table(path: Path, fmt: str | None = None, limits: Limits | None = None) -> Table:
    """Open ``path`` as a table (format from ``fmt`` or its ending), within ``limits``
    (default: the settings')."""
    fmt = detect_format(path, fmt)
    limits = limits or Limits.from_settings()
    if fmt == "xlsx":
        return _xlsx(path, limits)
    handle = path.open("rb")
    try:
        sample = handle.read(SNIFF_BYTES)
        handle.seek(0)
        if not sample.strip():
            raise NotATable("the file is empty")
        if _looks_binary(sample):
            raise NotATable("the file is binary, not a {format} table", format=fmt.upper())
        if fmt == "csv":
            return _csv(handle, sample, limits)
        if fmt == "jsonl":
            return _jsonl(handle, sample, limits)
        return _json(handle, sample, limits)
    except BaseException:
        handle.close()
        raise


class _Lines:
    """The lines of a text file, each read no longer than the limit (a longer one fails
    the file rather than fill memory), numbered from 1."""

    __slots__ = ("encoding", "limit", "readline")

    def __init__(self, text: io.TextIOWrapper, encoding: str, limit: int) -> None:
        self.readline = text.readline
        self.encoding = encoding
        self.limit = limit

    def __iter__(self) -> Iterator[str]:
        readline, limit, size = self.readline, self.limit, self.limit + 1
        number = 0
        while True:
            try:
                line = readline(size)
            except UnicodeDecodeError:
                raise ReadFailed(
                    "the text near line {line} is not {encoding}: the file mixes encodings; "
                    "send it in one encoding (UTF-8 or GB18030)",
                    line=number + 1,
                    encoding=self.encoding,
                ) from None
            if not line:
                return
            number += 1
            if len(line) > limit:
                raise ReadFailed(
                    "line {line} is longer than {limit} characters", line=number, limit=limit
                )
            yield line


def _csv_failure(exc: csv.Error, line: int, limits: Limits) -> ReadFailed:
    if "field larger than field limit" in str(exc):
        return ReadFailed(
            "line {line} has a field longer than {limit} characters",
            line=line,
            limit=limits.field_chars,
        )
    return ReadFailed("line {line} cannot be read as CSV: {error}", line=line, error=str(exc)[:120])


def _csv(handle: IO[bytes], sample: bytes, limits: Limits) -> Table:
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="strict")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample.decode(encoding, errors="ignore")[:8192], delimiters=",\t;|"
        )
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(limits.field_chars)
    lines = _Lines(text, encoding, limits.line_chars)
    reader = csv.reader(lines, dialect)
    try:
        headers = next(reader)
    except StopIteration as exc:
        raise NotATable("the file is empty") from exc
    except csv.Error as exc:
        raise _csv_failure(exc, reader.line_num, limits) from exc
    headers = [h.strip() for h in headers]
    if len([h for h in headers if h]) < 2:
        raise NotATable("the first line is not a header row of column names")
    _check_width(len(headers), limits)
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # The counts of _Counter, kept here: this loop runs once per row of every CSV file.
        read = empty = empty_from = 0
        most, most_empty = limits.rows, limits.empty_rows
        try:
            for values in reader:
                read += 1
                if read > most:
                    raise _too_many_rows(reader.line_num, most)
                if not any(v.strip() for v in values):
                    if not empty:
                        empty_from = reader.line_num
                    empty += 1
                    if empty > most_empty:
                        raise _too_many_empty_rows(empty_from, most_empty)
                    continue
                empty = 0
                if len(values) > width:
                    # Read only up to the header's width: blank cells past it are dropped,
                    # a row with values there is rejected keeping a few of them.
                    if any(v.strip() for v in values[width:]):
                        wide = _Unreadable(
                            WIDER_THAN_HEADER,
                            {"count": len(values), "headers": width},
                            values[: width + WIDE_KEPT],
                        )
                        yield reader.line_num, [wide]
                        continue
                    del values[width:]
                yield reader.line_num, values
        except csv.Error as exc:
            raise _csv_failure(exc, reader.line_num, limits) from None
        finally:
            text.close()

    return Table("csv", headers, rows(), encoding=encoding)


def _check_width(width: int, limits: Limits) -> None:
    if width > limits.columns:
        raise NotATable(
            "the header has {count} columns, more than {limit}", count=width, limit=limits.columns
        )


def _jsonl(handle: IO[bytes], sample: bytes, limits: Limits) -> Table:
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    lines = enumerate(_Lines(text, encoding, limits.line_chars), start=1)
    counter = _Counter(limits)
    first: tuple[int, dict[str, Any]] | None = None
    try:
        for number, line in lines:
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise NotATable("line {line} is not JSON", line=number) from exc
                if not isinstance(obj, dict):
                    raise NotATable("JSON Lines rows must be objects")
                first = (number, obj)
                break
            counter.blank(number)
        if first is None:
            raise NotATable("the file is empty")
        headers = list(first[1].keys())
        _check_width(len(headers), limits)
    except BaseException:
        text.close()
        raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        known = set(headers)
        try:
            counter.row(first[0])
            yield first[0], _values(first[1], headers)
            for number, line in lines:
                if not line.strip():
                    counter.blank(number)
                    continue
                counter.row(number)
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    yield number, [_Unreadable("line is not valid JSON")]
                    continue
                if not isinstance(obj, dict):
                    yield number, [_Unreadable("row is not a JSON object")]
                    continue
                if not known.issuperset(obj):
                    _extend_headers(headers, obj, limits, number)
                    known.update(obj)
                yield number, _values(obj, headers)
        finally:
            text.close()

    return Table("jsonl", headers, rows(), encoding=encoding)


def _json(handle: IO[bytes], sample: bytes, limits: Limits) -> Table:
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
    try:
        _check_width(len(headers), limits)
    except NotATable:
        handle.close()
        raise
    counter = _Counter(limits)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        index = 0
        known = set(headers)
        try:
            counter.row(index)
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
                counter.row(index)
                if not isinstance(obj, dict):
                    yield index, [_Unreadable("row is not a JSON object")]
                    continue
                if not known.issuperset(obj):
                    _extend_headers(headers, obj, limits, index)
                    known.update(obj)
                yield index, _values(obj, headers)
        finally:
            handle.close()

    return Table("json", headers, rows(), encoding=encoding)


def _check_archive(path: Path, limits: Limits) -> None:
    """Refuse a workbook whose parts would unpack past the limits, from the sizes its
    archive's directory declares (Python's zip reader never unpacks a part past its
    declared size: a part that lies about it fails its checksum)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotATable("the workbook cannot be opened: {error}", error=str(exc)[:120]) from exc
    total = sum(part.file_size for part in parts)
    if total > limits.unzipped_bytes:
        raise NotATable(
            "the workbook unpacks to {size} MiB, more than {limit} MiB",
            size=-(-total // MIB),
            limit=limits.unzipped_bytes // MIB,
        )
    for part in parts:
        name = part.filename.lower()
        streamed = name.startswith(_STREAMED_PARTS) and "/_rels/" not in name
        whole = name.endswith((".xml", ".rels")) and not streamed
        if whole and part.file_size > limits.whole_part_bytes:
            raise NotATable(
                "the workbook's part {part} unpacks to {size} MiB, more than {limit} MiB "
                "(shared strings and other parts are read whole)",
                part=part.filename[:100],
                size=-(-part.file_size // MIB),
                limit=limits.whole_part_bytes // MIB,
            )


def _blank_row(values: tuple[Any, ...] | None) -> bool:
    return not values or all(v is None or v == "" for v in values)


def _dimension_from_the_head(sheet: Any) -> None:
    """Read a read-only worksheet's declared size (its ``<dimension>``) as openpyxl does,
    but stop where the rows start.

    openpyxl looks for the element until ``sheetData`` *ends*: a sheet that declares no
    size (many writers leave it out) is parsed whole when the workbook is opened, every
    sheet of it — 16 s for a sheet of a million empty rows, before a row is read. The
    element comes before the rows (the schema's order), so the answer is the same.
    """
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.xml.functions import iterparse

    with sheet._get_source() as source:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                ref = element.get("ref")
                if ref:
                    try:
                        bounds = range_boundaries(ref)
                    except ValueError:
                        return
                    sheet._min_column, sheet._min_row, sheet._max_column, sheet._max_row = bounds
                return
            if element.tag == DATA_TAG:
                return


def _read_only_sheets() -> None:
    """Make openpyxl's read-only worksheets read their size from the head of the sheet."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _dimension_from_the_head


def _sheet_header(values: tuple[Any, ...] | list[Any], limits: Limits) -> list[str]:
    """The column names of a sheet's first non-blank row: as wide as its last named column,
    within the limit, at least two names."""
    cells = list(values)
    while cells and (cells[-1] is None or cells[-1] == ""):
        cells.pop()  # the header's width is its last named column
    if len(cells) > limits.columns:
        raise NotATable("the header has more than {limit} columns", limit=limits.columns)
    headers = [str(h).strip() if h is not None else "" for h in cells]
    if len([h for h in headers if h]) < 2:
        raise NotATable("the first line is not a header row of column names")
    return headers


def _xls(path: Path, limits: Limits) -> Table:
    """A legacy Excel 97-2003 workbook (.xls: BIFF records in an OLE2 container), read by
    calamine. The format holds at most 65,536 rows of 256 columns, so its first sheet is
    read whole; rows are numbered as the sheet numbers them."""
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        first_row = (sheet.start or (0, 0))[0]
        values = sheet.to_python(skip_empty_area=True)
    except Exception as exc:  # calamine raises its own kinds for a broken workbook
        raise NotATable("the workbook cannot be opened: {error}", error=str(exc)[:120]) from exc
    counter = _Counter(limits)
    numbered = enumerate(values, start=first_row + 1)
    for number, row in numbered:
        if _blank_row(tuple(row)):
            counter.blank(number)
            continue
        headers = _sheet_header(row, limits)
        break
    else:
        raise NotATable("the workbook's first sheet is empty")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for offset, row in numbered:
            kept = [None if cell == "" else cell for cell in row[: len(headers)]]
            if _blank_row(tuple(kept)):
                counter.blank(offset)
                continue
            counter.row(offset)
            yield offset, kept

    return Table("xls", headers, rows(), encoding=None)


# The first bytes of an OLE2 compound file: what an Excel 97-2003 (.xls) workbook is.
OLE2_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")


def _xlsx(path: Path, limits: Limits) -> Table:
    from openpyxl import load_workbook

    _read_only_sheets()
    if not zipfile.is_zipfile(path):
        with path.open("rb") as handle:
            if handle.read(len(OLE2_SIGNATURE)) == OLE2_SIGNATURE:
                return _xls(path, limits)
        raise NotATable("the file is not an Excel workbook (.xlsx or .xls)")
    _check_archive(path, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise NotATable("the workbook cannot be opened: {error}", error=str(exc)[:120]) from exc
    counter = _Counter(limits)
    try:
        sheet = workbook.worksheets[0]
        # The header is looked for one column past the limit: a wider header is refused.
        header_row: tuple[Any, ...] | None = None
        number = 0
        try:
            scan = sheet.iter_rows(values_only=True, max_col=limits.columns + 1)
            for number, values in enumerate(scan, start=1):
                if not _blank_row(values):
                    header_row = values
                    break
                counter.blank(number)
        except NotATable:
            raise
        except Exception as exc:
            raise NotATable("the workbook cannot be opened: {error}", error=str(exc)[:120]) from exc
        if header_row is None:
            raise NotATable("the workbook's first sheet is empty")
        headers = _sheet_header(header_row, limits)
    except BaseException:
        workbook.close()
        raise
    start = number
    # Data rows are read only up to the header's width: a cell far to the right (column
    # XFD) costs nothing, and a row is never padded past the header.
    iterator = sheet.iter_rows(values_only=True, min_row=start + 1, max_col=len(headers))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        offset = start
        try:
            for offset, values in enumerate(iterator, start=start + 1):
                if _blank_row(values):
                    counter.blank(offset)
                    continue
                counter.row(offset)
                yield offset, list(values)
        except NotATable:
            raise
        except Exception as exc:  # a part that breaks mid-sheet (bad XML, a bad checksum)
            raise ReadFailed(
                "the workbook cannot be read past row {line}: {error}",
                line=offset + 1,
                error=str(exc)[:120],
            ) from exc
        finally:
            workbook.close()

    return Table("xlsx", headers, rows(), encoding=None)


class _Unreadable:
    """Marks a row that could not be parsed at all, or not within the limits: the reason (a
    message id and its values) goes to the rejection, with what of the row was kept."""

    def __init__(
        self, reason: str, params: dict[str, Any] | None = None, kept: list[Any] | None = None
    ) -> None:
        self.reason = reason
        self.params = params or {}
        self.kept = kept or []


def unreadable(values: list[Any]) -> _Unreadable | None:
    """The mark of a row that could not be read, if ``values`` is one."""
    if len(values) == 1 and isinstance(values[0], _Unreadable):
        return values[0]
    return None


def unreadable_reason(values: list[Any]) -> str | None:
    broken = unreadable(values)
    return None if broken is None else broken.reason


def _extend_headers(headers: list[str], obj: dict[str, Any], limits: Limits, line: int) -> None:
    for key in obj:
        if key not in headers:
            headers.append(key)
    if len(headers) > limits.columns:
        raise ReadFailed(
            "row {line} brings the columns to more than {limit}", line=line, limit=limits.columns
        )


def _values(obj: dict[str, Any], headers: list[str]) -> list[Any]:
    return [obj.get(h) for h in headers]
