"""Hostile department files, made at any size: for the tests (small, with the caps lowered)
and for ``bench/drills.py hostile-files`` (full size, default caps).

Each writer puts a few good court-enforcement rows (``tables.good_row``) around the hostile
part, so what is stored besides the fault can be checked.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tests.ingest.tables import HEADERS, good_row

MIB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
LAST_COLUMN = 16384  # XFD


def _csv_line(values: list[Any]) -> str:
    return ",".join(str(v) for v in values) + "\r\n"


def _good_lines(first: int, count: int) -> str:
    return "".join(_csv_line(good_row(n)) for n in range(first, first + count))


def big_field_csv(path: Path, chars: int) -> Path:
    """Three good rows, a row whose enterprise name is ``chars`` characters on one line,
    two good rows."""
    row = good_row(4)
    row[1] = "x" * chars
    text = _csv_line(HEADERS) + _good_lines(1, 3) + _csv_line(row) + _good_lines(5, 2)
    path.write_text(text, encoding="utf-8")
    return path


def multiline_field_csv(path: Path, chars: int) -> Path:
    """Three good rows, then a quoted field of ``chars`` characters over lines of 80."""
    lines = "\n".join("y" * 80 for _ in range(chars // 81 + 1))
    row = good_row(4)
    row[1] = f'"{lines}"'
    text = _csv_line(HEADERS) + _good_lines(1, 3) + _csv_line(row) + _good_lines(5, 2)
    path.write_text(text, encoding="utf-8")
    return path


def long_line_csv(path: Path, chars: int) -> Path:
    """Three good rows, a line of ``chars`` characters (commas and letters), a good row;
    written in pieces, so any size fits in little memory."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(_csv_line(HEADERS) + _good_lines(1, 3))
        piece = "ab," * 21845 + "a"  # 65536 characters
        written = 0
        while written < chars:
            handle.write(piece)
            written += len(piece)
        handle.write("\r\n" + _good_lines(5, 1))
    return path


def mixed_encoding_csv(path: Path, utf8_bytes: int) -> tuple[Path, int]:
    """Good rows in UTF-8 for at least ``utf8_bytes`` bytes, then good rows in GBK; the
    number of UTF-8 rows."""
    with path.open("wb") as handle:
        handle.write(_csv_line(HEADERS).encode("utf-8"))
        size, n = 0, 0
        while size < utf8_bytes:
            n += 1
            line = _csv_line(good_row(n)).encode("utf-8")
            handle.write(line)
            size += len(line)
        for m in range(n + 1, n + 51):
            handle.write(_csv_line(good_row(m)).encode("gbk"))
    return path, n


def nul_csv(path: Path, after_bytes: int) -> tuple[Path, int, int]:
    """Good rows for at least ``after_bytes`` bytes, a row with NUL inside its enterprise
    name (and a bell in the court's), three good rows; the bad row's line and the count of
    good rows."""
    lines = [_csv_line(HEADERS)]
    size, n = len(lines[0]), 0
    while size < after_bytes:
        n += 1
        lines.append(_csv_line(good_row(n)))
        size += len(lines[-1].encode("utf-8"))
    bad = good_row(n + 1)
    bad[1] = "宁夏\x00测试有限公司"
    bad[3] = "兴庆区\x07人民法院"
    lines.append(_csv_line(bad))
    bad_line = len(lines)
    lines.extend(_csv_line(good_row(m)) for m in range(n + 2, n + 5))
    path.write_text("".join(lines), encoding="utf-8")
    return path, bad_line, n + 3


# --- workbooks --------------------------------------------------------------------------


def _base_workbook(rows: int = 3) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for n in range(1, rows + 1):
        sheet.append(good_row(n))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rebuild(
    path: Path,
    base: bytes,
    replace: dict[str, Callable[[bytes, IO[bytes]], None]],
    add: dict[str, Callable[[IO[bytes]], None]] | None = None,
) -> Path:
    """Copy the workbook ``base`` to ``path``, writing the parts named in ``replace`` with
    their writer (given the part's original bytes) and adding the parts of ``add``, all
    streamed (any size)."""
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            original = source.read(info.filename)
            writer = replace.get(info.filename)
            if writer is None:
                target.writestr(info, original)
                continue
            with target.open(info.filename, "w", force_zip64=True) as part:
                writer(original, part)
        for name, adder in (add or {}).items():
            with target.open(name, "w", force_zip64=True) as part:
                adder(part)
    return path


def _in_pieces(handle: IO[bytes], piece: bytes, total: int) -> None:
    written = 0
    while written < total:
        handle.write(piece)
        written += len(piece)


def wide_workbook(path: Path, rows: int) -> Path:
    """``rows`` good rows, each with one more cell in column XFD (16,384): the sheet's
    dimension then spans every column."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    filler = [None] * (LAST_COLUMN - len(HEADERS) - 1)
    for n in range(1, rows + 1):
        sheet.append([*good_row(n), *filler, "far to the right"])
    workbook.save(path)
    return path


def shared_strings_bomb(path: Path, mib: int) -> Path:
    """A workbook of three good rows (inline strings) with a shared strings table of ``mib``
    MiB, declared in the package as a workbook's shared strings are."""
    padding = b"<si><t>" + b"s" * 1009 + b"</t></si>"  # 1024 bytes

    def strings(part: IO[bytes]) -> None:
        part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        _in_pieces(part, padding * 1024, mib * MIB)
        part.write(b"</sst>")

    def content_types(original: bytes, part: IO[bytes]) -> None:
        override = (
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
        part.write(original.replace(b"</Types>", override + b"</Types>"))

    def relationships(original: bytes, part: IO[bytes]) -> None:
        relation = (
            b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        )
        part.write(original.replace(b"</Relationships>", relation + b"</Relationships>"))

    return _rebuild(
        path,
        _base_workbook(),
        {"[Content_Types].xml": content_types, "xl/_rels/workbook.xml.rels": relationships},
        {STRINGS: strings},
    )


def zip_bomb(path: Path, mib: int) -> Path:
    """A workbook of three good rows whose sheet unpacks to ``mib`` MiB more: one comment of
    spaces (a parser holds a comment whole)."""

    def sheet(original: bytes, part: IO[bytes]) -> None:
        head, tail = original.split(b"</sheetData>", 1)
        part.write(head + b"<!--")
        _in_pieces(part, b" " * MIB, mib * MIB)
        part.write(b"--></sheetData>" + tail)

    return _rebuild(path, _base_workbook(), {SHEET: sheet})


def _empty_rows(first: int, count: int) -> Iterator[bytes]:
    step = 10_000
    for start in range(first, first + count, step):
        stop = min(start + step, first + count)
        yield b"".join(b'<row r="%d"><c r="A%d" s="0"/></row>' % (r, r) for r in range(start, stop))


def empty_rows_workbook(path: Path, empty: int) -> Path:
    """Three good rows, ``empty`` rows of one empty cell each, one good row after them."""
    base = _base_workbook()

    def sheet(original: bytes, part: IO[bytes]) -> None:
        head, tail = original.split(b"</sheetData>", 1)
        part.write(head)
        for block in _empty_rows(5, empty):
            part.write(block)
        row = 5 + empty
        cells = b"".join(
            b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>'
            % (_letter(i).encode(), row, str(v).encode("utf-8"))
            for i, v in enumerate(good_row(9))
        )
        part.write(b'<row r="%d">%s</row></sheetData>' % (row, cells) + tail)

    # The sheet's dimension would say where the rows end: it is dropped, as many writers do.
    def without_dimension(original: bytes, part: IO[bytes]) -> None:
        start = original.find(b"<dimension")
        if start >= 0:
            end = original.find(b"/>", start) + 2
            original = original[:start] + original[end:]
        sheet(original, part)

    return _rebuild(path, base, {SHEET: without_dimension})


def _letter(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]
