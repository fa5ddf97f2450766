"""Hostile files: each fails its batch (or rejects its bad row) with a clear reason, reads
within the caps, and stores nothing of the hostile part.

The files are made here, small: where the real thing is big (a gigabyte of shared strings,
a zip bomb, a million empty rows) the cap is lowered for the test instead. Full size, with
time and peak memory, is ``bench/drills.py hostile-files``.

What each stores: a file refused before its rows are read (a workbook too big unpacked, a
header too wide) stores nothing; one that breaks midway (a runaway line or field, bytes of
another encoding, endless empty rows, too many rows) stores the rows before the break and
names it; a bad row inside a good file (NUL, control characters, values past the header)
is rejected alone with its reason and the other rows are stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from tests.ingest import hostile
from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.ingest import folder, readers, service
from xinyidai.ingest.models import Batch, Rejection
from xinyidai.records.models import CreditRecord
from xinyidai.registry.models import Enterprise

Caps = Callable[..., None]


@pytest.fixture
def caps(xyd_env: XydEnv) -> Caps:
    """Lower ingest caps for one test: ``caps(max_rows=50)`` sets XYD_INGEST_MAX_ROWS."""

    def lower(**values: int) -> None:
        xyd_env(**{f"XYD_INGEST_{name.upper()}": str(value) for name, value in values.items()})

    return lower


def _ingest(path: Path) -> dict[str, object]:
    """Ingest as the CLI does (committed chunk by chunk, in a session of its own)."""
    return folder.ingest_one(
        service.FeedFile(path, "court", "court_enforcement"), actor="test", source="cli"
    )


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _batch(session: Session, result: dict[str, object]) -> Batch:
    session.expire_all()
    batch = session.get(Batch, result["batch_id"])
    assert batch is not None
    return batch


def _failed(session: Session, result: dict[str, object], reason: str) -> Batch:
    """The batch failed with ``reason`` (an English message id) in its detail, its one-line
    error in English and in Chinese."""
    batch = _batch(session, result)
    assert batch.state == "failed", batch.error
    assert batch.error_detail is not None
    assert batch.error_detail["message"] == reason
    assert batch.error
    assert "\n" not in batch.error
    chinese = service.error_text(batch, "zh_CN")
    assert chinese
    assert chinese != batch.error
    assert "\n" not in chinese
    return batch


def test_a_wide_workbook_is_read_only_up_to_its_header(session: Session, tmp_path: Path) -> None:
    """A cell in column XFD on every row: the rows are read 7 cells wide and stored; the cell
    far to the right is not read (a workbook's table ends with its header's last column)."""
    path = hostile.wide_workbook(tmp_path / "wide.xlsx", rows=300)
    table = readers.open_table(path)
    widths = {len(values) for _, values in table.rows}
    assert widths == {len(HEADERS)}
    result = _ingest(path)
    assert (result["state"], result["accepted"], result["rejected"]) == ("done", 300, 0)
    assert _count(session, CreditRecord) == 300


def test_a_shared_strings_bomb_is_refused_before_it_is_unpacked(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_shared_strings_mb=1)
    path = hostile.shared_strings_bomb(tmp_path / "strings.xlsx", mib=3)
    assert path.stat().st_size < 100_000
    result = _ingest(path)
    batch = _failed(
        session,
        result,
        "the workbook's part {part} unpacks to {size} MiB, more than {limit} MiB "
        "(shared strings and other parts are read whole)",
    )
    assert batch.error_detail is not None
    assert batch.error_detail["params"] == {"part": hostile.STRINGS, "size": 4, "limit": 1}
    assert "nothing was stored" in (batch.error or "")
    assert (_count(session, CreditRecord), _count(session, Rejection)) == (0, 0)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_unzipped_mb=2)
    path = hostile.zip_bomb(tmp_path / "bomb.xlsx", mib=4)
    assert path.stat().st_size < 100_000
    result = _ingest(path)
    batch = _failed(session, result, "the workbook unpacks to {size} MiB, more than {limit} MiB")
    assert batch.error_detail is not None
    assert batch.error_detail["params"]["limit"] == 2
    assert "解压后" in (service.error_text(batch, "zh_CN") or "")
    assert (_count(session, CreditRecord), _count(session, Rejection)) == (0, 0)


def test_endless_empty_rows_fail_the_workbook_after_the_rows_before_them(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_empty_rows=1000)
    path = hostile.empty_rows_workbook(tmp_path / "empty.xlsx", empty=5000)
    result = _ingest(path)
    batch = _failed(
        session,
        result,
        "more than {limit} empty rows in a row from line {line}: remove the empty rows and "
        "send the file again",
    )
    assert batch.error_detail is not None
    assert batch.error_detail["params"] == {"limit": 1000, "line": 5}
    assert "stored before it: 3 rows read, 3 new" in (batch.error or "")
    assert (_count(session, CreditRecord), _count(session, Rejection)) == (3, 0)


def test_a_file_with_more_rows_than_allowed_fails_after_the_allowed_ones(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_rows=40, batch_rows=15)
    path = write(tmp_path / "many", "csv", HEADERS, [good_row(n) for n in range(1, 61)])
    result = _ingest(path)
    batch = _failed(
        session, result, "the file has more than {limit} rows: split it into smaller files"
    )
    assert batch.error_detail is not None
    assert batch.error_detail["params"] == {"limit": 40, "line": 42}
    assert (batch.total, batch.accepted, batch.last_position) == (40, 40, 41)
    assert _count(session, CreditRecord) == 40


def test_a_ten_megabyte_field_fails_its_line_not_the_process(
    session: Session, tmp_path: Path
) -> None:
    """At the default caps: the line holding the field is longer than a line may be."""
    path = hostile.big_field_csv(tmp_path / "field.csv", chars=10 * 1024 * 1024)
    result = _ingest(path)
    batch = _failed(session, result, "line {line} is longer than {limit} characters")
    assert batch.error_detail is not None
    assert batch.error_detail["params"] == {"line": 5, "limit": 256 * 1024}
    assert "第 5 行超过 262144 个字符" in (service.error_text(batch, "zh_CN") or "")
    assert (batch.accepted, _count(session, CreditRecord), _count(session, Rejection)) == (3, 3, 0)


def test_a_field_over_many_lines_fails_at_the_field_limit(session: Session, tmp_path: Path) -> None:
    path = hostile.multiline_field_csv(tmp_path / "lines.csv", chars=200_000)
    result = _ingest(path)
    batch = _failed(session, result, "line {line} has a field longer than {limit} characters")
    assert batch.error_detail is not None
    assert batch.error_detail["params"]["limit"] == 64 * 1024
    assert (batch.accepted, _count(session, CreditRecord)) == (3, 3)


def test_an_absurdly_long_line_fails_the_file_after_the_lines_before_it(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_line_kb=64)
    path = hostile.long_line_csv(tmp_path / "line.csv", chars=1024 * 1024)
    result = _ingest(path)
    batch = _failed(session, result, "line {line} is longer than {limit} characters")
    assert batch.error_detail is not None
    assert batch.error_detail["params"] == {"line": 5, "limit": 64 * 1024}
    assert (batch.accepted, _count(session, Rejection)) == (3, 0)


def test_a_json_lines_file_has_the_same_line_limit(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_line_kb=1)
    rows = [dict(zip(HEADERS, good_row(n), strict=True)) for n in range(1, 4)]
    rows[2]["被执行人名称"] = "长" * 2000
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = _ingest(path)
    batch = _failed(session, result, "line {line} is longer than {limit} characters")
    assert batch.accepted == 2


def test_mixed_encodings_fail_where_the_second_one_starts(session: Session, tmp_path: Path) -> None:
    """UTF-8 past the part the encoding is guessed from, then GBK: the file fails near the
    line where GBK starts; no GBK row is stored."""
    path, utf8_rows = hostile.mixed_encoding_csv(tmp_path / "mixed.csv", 300 * 1024)
    assert path.stat().st_size > readers.SNIFF_BYTES
    result = _ingest(path)
    batch = _failed(
        session,
        result,
        "the text near line {line} is not {encoding}: the file mixes encodings; send it in "
        "one encoding (UTF-8 or GB18030)",
    )
    assert batch.error_detail is not None
    line = batch.error_detail["params"]["line"]
    assert batch.error_detail["params"]["encoding"] == "utf-8"
    # Every row before the reported line is stored (text is decoded 8 KiB at a time, so the
    # line is at most that far before the first GBK byte), none after the UTF-8 part.
    assert batch.accepted == line - 2
    assert utf8_rows - 200 < batch.accepted <= utf8_rows
    assert _count(session, CreditRecord) == batch.accepted


@pytest.mark.parametrize("fmt", ["csv", "gb18030.csv", "json", "jsonl"])
def test_nul_and_control_characters_are_a_rejected_row(
    session: Session, tmp_path: Path, fmt: str
) -> None:
    """NUL after the first 4 KiB (the binary check reads those) and a bell: the row is
    rejected naming the field and the character, the others stored, nothing with a control
    character in a record or in the registry. (A workbook's XML cannot hold them.)"""
    rows = [good_row(n) for n in range(1, 60)]
    rows[50][1] = "宁夏\x00测试有限公司"
    rows[50][3] = "兴庆区\x07人民法院"
    path = write(tmp_path / "nul", fmt, HEADERS, rows)
    result = _ingest(path)
    assert (result["state"], result["accepted"], result["rejected"]) == ("done", 58, 1)
    rejection = session.scalars(select(Rejection)).one()
    assert rejection.field == "enterprise_name"
    assert [e["field"] for e in rejection.errors] == ["enterprise_name", "court"]
    assert rejection.errors[0]["message"] == (
        "text holds a control character (U+{code}) at character {position}"
    )
    assert rejection.errors[0]["params"] == {"code": "0000", "position": 3}
    assert "\x00" not in rejection.reason
    assert not any("\x00" in str(value) for value in rejection.raw.values())
    assert rejection.raw["被执行人名称"] == "宁夏\ufffd测试有限公司"
    names = list(session.scalars(select(Enterprise.name)))
    assert len(names) == 58
    assert not any("\x00" in (n or "") for n in names)
    for (data,) in session.execute(select(CreditRecord.data)):
        assert not any("\x00" in str(v) or "\x07" in str(v) for v in data.values())


def test_the_nul_file_of_the_issue(session: Session, tmp_path: Path) -> None:
    path, line, good = hostile.nul_csv(tmp_path / "nul.csv", after_bytes=5000)
    result = _ingest(path)
    assert (result["state"], result["accepted"], result["rejected"]) == ("done", good, 1)
    assert session.scalars(select(Rejection.position)).one() == line


def test_a_header_wider_than_allowed_is_refused(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    caps(max_columns=20)
    headers = [*HEADERS, *(f"extra{i}" for i in range(20))]
    path = write(tmp_path / "wide", "csv", headers, [[*good_row(1), *[""] * 20]])
    result = _ingest(path)
    _failed(session, result, "the header has {count} columns, more than {limit}")
    assert _count(session, CreditRecord) == 0


def test_a_csv_row_past_the_header_keeps_a_bounded_copy(
    session: Session, tmp_path: Path, caps: Caps
) -> None:
    """A row with 5,000 values more than its header: rejected with the count, its stored
    copy cut to the cap (1 KiB here); blank cells past the header are dropped; a value
    longer than 1,000 characters is cut."""
    caps(rejected_row_kb=1)
    wide = [*good_row(1), *(["z" * 50] * 5000)]
    blank_tail = [*good_row(2), *([""] * 5000)]
    long_value = good_row(3)
    long_value[0] = "码" * 5000  # not a credit code: rejected, and cut in the stored copy
    path = write(tmp_path / "rows", "csv", HEADERS, [wide, blank_tail, long_value])
    result = _ingest(path)
    assert (result["state"], result["accepted"], result["rejected"]) == ("done", 1, 2)
    first, second = session.scalars(select(Rejection).order_by(Rejection.position))
    assert first.errors[0]["params"] == {"count": 5007, "headers": 7}
    assert list(first.raw)[:7] == HEADERS
    assert 7 < len(first.raw) < 7 + 16  # some of the values past the header, not all
    assert len(json.dumps(first.raw, ensure_ascii=False)) < 1400
    assert len(second.raw) < len(HEADERS)  # the columns past the budget left out
    assert second.raw[HEADERS[0]] == "码" * service.RAW_VALUE_CHARS + "…"


@pytest.mark.parametrize("declared", [True, False])
def test_a_sheet_s_size_is_read_from_its_head_as_openpyxl_reads_it(
    tmp_path: Path, declared: bool
) -> None:
    """The size a sheet declares is read before its rows (openpyxl would parse a sheet that
    declares none whole, at open): the same answer as openpyxl's own parser gives."""
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser

    rows = [good_row(n) for n in range(1, 30)]
    path = write(tmp_path / "feed", "xlsx", HEADERS, rows)
    if not declared:
        path = hostile.empty_rows_workbook(tmp_path / "undeclared.xlsx", empty=10)
    readers.open_table(path).close()  # installs the reading of the head
    sheet = load_workbook(path, read_only=True).worksheets[0]
    with sheet._get_source() as source:
        expected = WorkSheetParser(source, []).parse_dimensions()
    got = (sheet.min_column, sheet.min_row, sheet.max_column, sheet.max_row)
    assert got == (expected or (1, 1, None, None))
    assert (expected is not None) == declared
