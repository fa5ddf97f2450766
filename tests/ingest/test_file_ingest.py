"""Ingesting department files: bad rows quarantined with their reasons, good rows stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import XydEnv
from tests.ingest.tables import FORMATS, HEADERS, code, good_row, write
from xinyidai.catalog import service as catalog
from xinyidai.core.errors import ValidationFailed
from xinyidai.ingest import readers, service
from xinyidai.ingest.models import Rejection
from xinyidai.records import service as records
from xinyidai.records.models import CreditRecord, RecordVersion
from xinyidai.registry import service as registry
from xinyidai.registry.models import SubjectStatus

BAD_ROWS = {
    "wrong check character": (
        lambda row: row.__setitem__(0, row[0][:-1] + ("0" if row[0][-1] != "0" else "1")),
        "统一社会信用代码",
        "credit_code",
        "wrong check character",
    ),
    "unknown region": (
        lambda row: row.__setitem__(6, "999999"),
        "法院所在区划",
        "region_code",
        "unknown GB/T 2260 region code 999999",
    ),
    "malformed date": (
        lambda row: row.__setitem__(4, "2024-13-45"),
        "立案日期",
        "filed_on",
        "not a valid date: 2024-13-45",
    ),
    "negative amount": (
        lambda row: row.__setitem__(5, "-10.00"),
        "执行标的（元）",
        "amount",
        "must not be less than 0",
    ),
    "missing required field": (
        lambda row: row.__setitem__(2, ""),
        "案号",
        "case_number",
        "required field case_number is missing",
    ),
}


def _ingest(session: Session, path: Path) -> dict[str, object]:
    feed = service.FeedFile(path, "court", "court_enforcement")
    batch = service.ingest_file(session, feed=feed, actor="test")
    session.commit()
    return service.summary(batch)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fault", sorted(BAD_ROWS))
def test_each_bad_row_is_quarantined_with_its_reason_in_every_format(
    session: Session, tmp_path: Path, fmt: str, fault: str
) -> None:
    spoil, _header, field, reason = BAD_ROWS[fault]
    rows = [good_row(n) for n in range(1, 6)]
    spoil(rows[2])
    path = write(tmp_path / "feed", fmt, HEADERS, rows)

    result = _ingest(session, path)

    assert (result["total"], result["accepted"], result["rejected"]) == (5, 4, 1)
    rejection = session.scalars(select(Rejection)).one()
    # JSON: 0-based index; JSON Lines: line (no header); CSV and Excel: line after the header.
    expected_position = {"json": 2, "jsonl": 3}.get(fmt, 4)
    assert rejection.position == expected_position
    assert rejection.field == field
    assert reason in rejection.reason
    assert rejection.raw["案号"] == rows[2][2] or field == "case_number"
    stored = {r.data["case_number"] for r in session.scalars(select(CreditRecord))}
    assert stored == {rows[i][2] for i in (0, 1, 3, 4)}
    # A first version is the record's row alone: nothing is written twice.
    assert _count(session, RecordVersion) == 0


def test_reingesting_the_same_file_stores_nothing_new(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(n) for n in range(1, 4)])
    _ingest(session, path)
    again = _ingest(session, path)
    assert (again["accepted"], again["duplicates"], again["updated"]) == (0, 3, 0)
    assert _count(session, CreditRecord) == 3
    assert _count(session, RecordVersion) == 0


def test_a_changed_value_is_an_update_that_keeps_the_old_version(
    session: Session, tmp_path: Path
) -> None:
    _ingest(session, write(tmp_path / "v1", "csv", HEADERS, [good_row(1, "100.00")]))
    first_mark = records.last_change_id(session)
    result = _ingest(session, write(tmp_path / "v2", "csv", HEADERS, [good_row(1, "250.00")]))
    assert (result["accepted"], result["updated"]) == (0, 1)
    record = session.scalars(select(CreditRecord)).one()
    assert record.change_id > first_mark
    changed, complete = records.changed_subjects(
        session, categories=["court_enforcement"], after=first_mark
    )
    assert (changed, complete) == ({record.subject_code}, True)
    assert (record.version, record.data["amount"]) == (2, "250.00")
    history = records.versions_of(session, record_id=record.id)
    assert [(v.version, v.data["amount"]) for v in history] == [(2, "250.00"), (1, "100.00")]
    past = session.scalars(select(RecordVersion)).one()
    assert (past.record_id, past.version, past.data["amount"]) == (record.id, 1, "100.00")
    assert history[1].created_at < history[0].created_at
    shown = records.records_of(
        session,
        subject_code=record.subject_code,
        categories=["court_enforcement"],
        with_history=True,
    )
    assert [v.version for v in shown[0].records[0].history or []] == [2, 1]
    assert records.orphan_versions(session) == 0


def test_the_same_fact_from_another_department_is_a_duplicate(
    session: Session, tmp_path: Path
) -> None:
    """The department the operator moved the category to sends a fact its earlier source
    sent: it is stored once, with both sources."""
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(1)])
    _ingest(session, path)
    catalog.assign(session, code="court_enforcement", provider="credit", actor="test")
    other = service.ingest_file(
        session, feed=service.FeedFile(path, "credit", "court_enforcement"), actor="test"
    )
    session.commit()
    assert (other.accepted, other.duplicates) == (0, 1)
    record = session.scalars(select(CreditRecord)).one()
    assert record.sources == ["court", "credit"]


def test_a_different_value_from_another_department_is_flagged_as_a_conflict(
    session: Session, tmp_path: Path
) -> None:
    _ingest(session, write(tmp_path / "a", "csv", HEADERS, [good_row(1, "100.00")]))
    catalog.assign(session, code="court_enforcement", provider="credit", actor="test")
    path = write(tmp_path / "b", "csv", HEADERS, [good_row(1, "999.00")])
    batch = service.ingest_file(
        session, feed=service.FeedFile(path, "credit", "court_enforcement"), actor="test"
    )
    session.commit()
    assert (batch.updated, batch.conflicts) == (1, 1)
    conflicts, total = records.conflicts_by(session)
    assert total == 1
    assert conflicts[0].fields == ["amount"]
    assert (conflicts[0].earlier_provider, conflicts[0].later_provider) == ("court", "credit")


@pytest.mark.parametrize("process_kb", ["0", "1"], ids=["here", "in-a-child"])
def test_gb18030_file_is_detected_and_read(
    session: Session, tmp_path: Path, xyd_env: XydEnv, process_kb: str
) -> None:
    xyd_env(XYD_INGEST_PROCESS_KB=process_kb)
    rows = [good_row(n) for n in range(1, 30)]
    path = write(tmp_path / "feed", "gb18030.csv", HEADERS, rows)
    assert path.stat().st_size > 1024
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    batch = service.ingest_file(
        session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="test"
    )
    assert (batch.format, batch.encoding, batch.accepted) == ("csv", "gb18030", 29)
    assert {r.data["court"] for r in session.scalars(select(CreditRecord))} == {"兴庆区人民法院"}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_a_character_cut_at_the_end_of_the_sniffed_sample_is_not_a_decoding_error(
    encoding: str,
) -> None:
    text = "统一社会信用代码,企业名称\n" + "91640104MA76X5TX3N,宁夏测试有限公司\n" * 20_000
    data = text.encode(encoding)
    assert len(data) > readers.SNIFF_BYTES
    # Shift the text one byte at a time until the sample's end splits a character.
    for shift in range(40):
        sample = (b"#" * shift + data)[: readers.SNIFF_BYTES]
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            break
    else:
        pytest.fail("no shift split a character at the sample's end")
    assert readers.detect_encoding(sample) == encoding


def test_a_large_gb18030_file_is_read_to_the_end(session: Session, tmp_path: Path) -> None:
    rows = [good_row(n) for n in range(1, 3000)]
    path = write(tmp_path / "feed", "gb18030.csv", HEADERS, rows)
    assert path.stat().st_size > readers.SNIFF_BYTES
    batch = service.ingest_file(
        session, feed=service.FeedFile(path, "court", "court_enforcement"), actor="test"
    )
    assert (batch.state, batch.encoding, batch.total) == ("done", "gb18030", len(rows))


def test_a_file_with_only_bad_rows_stores_nothing(session: Session, tmp_path: Path) -> None:
    rows = [good_row(n) for n in range(1, 4)]
    for row in rows:
        row[4] = "N/A-date"
    result = _ingest(session, write(tmp_path / "feed", "xlsx", HEADERS, rows))
    assert (result["state"], result["accepted"], result["rejected"]) == ("done", 0, 3)
    assert _count(session, CreditRecord) == 0


@pytest.mark.parametrize(
    ("content", "suffix", "reason"),
    [
        (b"", ".csv", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", ".csv", "binary"),
        (b'{"not": "an array"}', ".json", "array of row objects"),
        (b"just one line of prose\n", ".csv", "not a header row"),
        (b"PK-not-really-a-zip", ".xlsx", "not an Excel workbook (.xlsx or .xls)"),
        (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600, ".xls", "cannot be opened"),
        (b"name,value\n", ".pdf", "unsupported file format pdf"),
    ],
)
def test_a_file_that_is_not_a_table_fails_with_the_reason_and_stores_nothing(
    session: Session, tmp_path: Path, content: bytes, suffix: str, reason: str
) -> None:
    path = tmp_path / f"feed{suffix}"
    path.write_bytes(content)
    result = _ingest(session, path)
    assert result["state"] == "failed"
    assert reason in str(result["error"])
    assert _count(session, CreditRecord) == 0
    assert _count(session, Rejection) == 0


def test_unknown_subjects_are_registered_pending_verification(
    session: Session, tmp_path: Path
) -> None:
    _ingest(session, write(tmp_path / "feed", "csv", HEADERS, [good_row(7)]))
    subject = registry.get_by_code(session, credit_code=code(7))
    assert subject is not None
    assert (subject.status, subject.name) == (SubjectStatus.PENDING, "宁夏测试7有限公司")


def test_unknown_category_is_refused_before_anything_is_read(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(1)])
    with pytest.raises(Exception, match="no catalogue category weather"):
        service.ingest_file(session, feed=service.FeedFile(path, "court", "weather"), actor="t")


def test_a_single_file_needs_provider_and_category(tmp_path: Path) -> None:
    path = write(tmp_path / "feed", "csv", HEADERS, [good_row(1)])
    with pytest.raises(ValidationFailed) as caught:
        service.feeds_in(path, provider=None, category="court_enforcement")
    assert caught.value.field == "provider"


def test_cli_ingest_prints_one_json_line_per_file_and_a_total(db_url: str, tmp_path: Path) -> None:
    from xinyidai.cli import app

    rows = [good_row(n) for n in range(1, 4)]
    rows[1][0] = "91640104MA00000000"
    path = write(tmp_path / "feed", "jsonl", HEADERS, rows)
    args = ["ingest", str(path), "--provider", "court", "--category", "court_enforcement", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(lines[0]) >= {
        "batch_id",
        "path",
        "provider",
        "category",
        "total",
        "accepted",
        "rejected",
        "duplicates",
        "updated",
    }
    assert (lines[0]["accepted"], lines[0]["rejected"]) == (2, 1)
    assert lines[-1] == {
        "total": {
            "files": 1,
            "total": 3,
            "accepted": 2,
            "rejected": 1,
            "duplicates": 0,
            "updated": 0,
        }
    }


def test_cli_ingests_a_synth_folder_then_rates_it_once(db_url: str, tmp_path: Path) -> None:
    from xinyidai.cli import app
    from xinyidai.core.db import new_session
    from xinyidai.scoring.models import CreditRating, RatingRun
    from xinyidai.synth import generate

    region = tmp_path / "region"
    generate(region, enterprises=150, seed=9)
    result = CliRunner().invoke(app, ["ingest", str(region), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["category"] == "registration"
    total = lines[-1]["total"]
    assert total["files"] == len(lines) - 1
    assert total["rated"] > 0
    session = new_session()
    try:
        assert session.scalar(select(func.count()).select_from(RatingRun)) == 1
        triggers = set(session.scalars(select(CreditRating.trigger)))
        assert triggers == {"run"}
    finally:
        session.close()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_json_row_with_keys_the_first_rows_lacked_widens_the_table(
    session: Session, tmp_path: Path, fmt: str
) -> None:
    objects = [dict(zip(HEADERS, good_row(n), strict=True)) for n in range(1, 5)]
    objects[2]["执行状态"] = "终结本次执行"  # a known field no earlier row had
    objects[3]["备注"] = "无"  # a key no field knows
    objects[3]["执行状态"] = "执行中"
    path = tmp_path / f"feed.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(objects, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(
            "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8"
        )

    result = _ingest(session, path)

    assert (result["total"], result["accepted"], result["rejected"]) == (4, 4, 0)
    assert result["unknown_headers"] == ["备注"]
    status = {
        r.data["case_number"]: r.data.get("status") for r in session.scalars(select(CreditRecord))
    }
    assert sorted(status.values(), key=str) == sorted(
        [None, None, "终结本次执行", "执行中"], key=str
    )


@pytest.mark.parametrize("where", ["被执行人名称", "案号"])  # data only, and a key field
def test_a_row_with_text_that_is_not_unicode_is_quarantined(
    session: Session, tmp_path: Path, where: str
) -> None:
    objects = [dict(zip(HEADERS, good_row(n), strict=True)) for n in range(1, 4)]
    # A lone surrogate escape: valid JSON, but no character of Unicode. (The reader of JSON
    # arrays already turns it into a question mark; JSON Lines hand it on as it is.)
    lines = [json.dumps(o, ensure_ascii=True) for o in objects]
    lines[1] = lines[1].replace(json.dumps(objects[1][where]), '"\\ud800"')
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n")

    result = _ingest(session, path)

    assert (result["total"], result["accepted"], result["rejected"]) == (3, 2, 1)
    (rejection,) = session.scalars(select(Rejection))
    assert rejection.position == 2
    assert rejection.reason == "row holds text that is not valid Unicode"
    assert {r.subject_code for r in session.scalars(select(CreditRecord))} == {code(1), code(3)}
