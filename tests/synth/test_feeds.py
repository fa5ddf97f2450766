"""The generated feeds: determinism, formats, planted bad rows and their truth file."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.synth.reading import judge, read_feed, truth_rows
from xinyidai.catalog import service as catalog_service
from xinyidai.synth import generate
from xinyidai.synth.faults import KINDS
from xinyidai.synth.feeds import FEEDS
from xinyidai.synth.writers import _json_objects

REQUIRED_CATEGORIES = {
    "registration",
    "tax_rating",
    "tax_payment",
    "social_insurance",
    "housing_fund",
    "admin_licence",
    "admin_penalty",
    "court_enforcement",
    "dishonest_debtor",
    "abnormal_operation",
    "utility_payment",
    "customs_record",
    "ip_patent",
    "ip_trademark",
    "gov_procurement",
    "shareholder",
    "guarantee",
}


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", enterprises=300, seed=5)
    generate(tmp_path / "b", enterprises=300, seed=5)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert any(name.endswith(".xlsx") for name in first)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", enterprises=300, seed=5)
    generate(tmp_path / "b", enterprises=300, seed=6)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    differing = [name for name in first if first[name] != second.get(name)]
    assert "feeds/market/registration.csv" in differing
    assert "truth/defaults.csv" in differing


def test_two_processes_write_the_same_files_as_one(tmp_path: Path) -> None:
    generate(tmp_path / "one", enterprises=1200, seed=9, workers=1)
    generate(tmp_path / "two", enterprises=1200, seed=9, workers=2)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")


def test_regenerating_into_a_folder_replaces_old_feeds(tmp_path: Path) -> None:
    generate(tmp_path, enterprises=300, seed=1)
    stale = tmp_path / "feeds" / "market" / "old.csv"
    stale.write_text("x", encoding="utf-8")
    generate(tmp_path, enterprises=200, seed=1)
    assert not stale.exists()
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["enterprises"] == 200


@pytest.mark.parametrize("size", [0, -5, 100_000_001])
def test_generate_refuses_sizes_it_cannot_serve_and_writes_nothing(
    tmp_path: Path, size: int
) -> None:
    with pytest.raises(ValueError, match="enterprises must be from 1 to 100,000,000"):
        generate(tmp_path / "out", enterprises=size, seed=1)
    assert not (tmp_path / "out").exists()


def test_manifest_lists_every_feed_with_its_real_row_count(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = region
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest
    assert on_disk["region"] == {"code": "640000", "name": "宁夏回族自治区"}
    assert {feed["category"] for feed in manifest["feeds"]} == REQUIRED_CATEGORIES
    assert {feed["format"] for feed in manifest["feeds"]} == {"csv", "xlsx", "json", "jsonl"}
    for spec, feed in zip(FEEDS, manifest["feeds"], strict=True):
        assert feed["path"] == f"feeds/{feed['provider']}/{feed['category']}.{feed['format']}"
        assert (out / feed["path"]).is_file()
        assert feed["rows"] == sum(1 for _ in read_feed(out, spec)), feed["path"]
    assert manifest["counts"]["feed_rows"] == sum(feed["rows"] for feed in manifest["feeds"])


def test_each_feed_is_filed_under_its_categorys_source_department() -> None:
    """The manifest names the department each file comes from; ingestion accepts a category
    only from its source in the catalogue, so the generator files each feed there."""
    sources = {spec.code: spec.provider for spec in catalog_service.default_specs()}
    assert [(f.category, f.provider) for f in FEEDS] == [
        (f.category, sources[f.category]) for f in FEEDS
    ]


def test_bad_rows_file_points_exactly_at_the_faulty_rows(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = region
    expected: dict[str, dict[tuple[str, str], set[str]]] = defaultdict(dict)
    for row in truth_rows(out):
        locator = (row["line"], row["index"])
        assert locator not in expected[row["path"]], "one fault per bad row"
        expected[row["path"]][locator] = {row["reason"]}
    for spec in FEEDS:
        assert judge(out, spec) == expected[spec.path], spec.path


def test_planted_rate_is_about_two_percent_with_every_kind_in_every_format(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = region
    rows = truth_rows(out)
    assert 0.015 <= len(rows) / manifest["counts"]["feed_rows"] <= 0.025
    formats = {spec.path: spec.format for spec in FEEDS}
    kinds_by_format: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        kinds_by_format[formats[row["path"]]].add(row["reason"])
    assert kinds_by_format == {fmt: set(KINDS) for fmt in ("csv", "xlsx", "json", "jsonl")}
    per_feed = Counter(row["path"] for row in rows)
    for feed in manifest["feeds"]:
        if feed["rows"] >= 500:
            assert 0.01 <= per_feed[feed["path"]] / feed["rows"] <= 0.03, feed["path"]


def test_gb18030_feed_decodes_as_gb18030_and_not_as_utf8(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = region
    spec = next(s for s in FEEDS if s.encoding == "gb18030")
    raw = (out / spec.path).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith(",".join(spec.headers))


def test_utf8_feeds_carry_chinese_headers(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    text = (out / "feeds/market/registration.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("统一社会信用代码,企业名称")
    housing = (out / "feeds/housing/housing_fund.csv").read_bytes()
    assert housing.startswith("\ufeff".encode())  # Excel-saved UTF-8 with a byte-order mark


def test_xlsx_feed_opens_with_openpyxl(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    workbook = load_workbook(out / "feeds/customs/customs_record.xlsx")
    sheet = workbook.worksheets[0]
    assert sheet.title == "海关进出口信用信息"
    assert sheet.cell(1, 3).value == "统一社会信用代码"
    assert sheet.max_row > 1
    assert workbook.properties.created.year == 2026


def test_json_feed_is_an_array_and_jsonl_feed_is_one_object_a_line(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = region
    array = json.loads((out / "feeds/tax/tax_payment.json").read_text(encoding="utf-8"))
    assert isinstance(array, list)
    assert array[0]["征收项目"] in {"增值税", "企业所得税"}
    lines = (out / "feeds/utility/utility_payment.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(set(json.loads(line)) >= {"户号", "统一社会信用代码"} for line in lines)
    assert "\\u" not in lines[0]  # ensure_ascii=False: Chinese as written


def test_amounts_are_yuan_with_two_decimals(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    spec = next(s for s in FEEDS if s.category == "tax_payment")
    amounts = [values[5] for _, values in read_feed(out, spec) if values[5] is not None]
    assert amounts
    assert all(isinstance(a, str) and len(a.rsplit(".", 1)[1]) == 2 for a in amounts)


def test_json_rows_are_written_exactly_as_json_dumps_would(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = region
    for path in ("feeds/utility/utility_payment.jsonl", "feeds/court/court_enforcement.jsonl"):
        for line in (out / path).read_text(encoding="utf-8").splitlines():
            assert json.dumps(json.loads(line), ensure_ascii=False) == line


def test_json_text_that_needs_escaping_is_escaped() -> None:
    spec = next(s for s in FEEDS if s.format == "jsonl")
    columns: list[list[Any]] = [[None] for _ in spec.columns]
    columns[1] = ['名称"带引号\\和\n换行']
    (line,) = _json_objects(spec, columns)
    assert json.loads(line)[spec.headers[1]] == '名称"带引号\\和\n换行'
    assert json.loads(line)[spec.headers[0]] is None


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(
        tmp_path, enterprises=100, seed=2, progress=lambda done, total: calls.append((done, total))
    )
    assert calls
    assert calls[-1] == (100, 100)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_smallest_region_still_has_every_feed(tmp_path: Path) -> None:
    manifest = generate(tmp_path, enterprises=100, seed=3)
    assert len(manifest["feeds"]) == len(FEEDS)
    assert manifest["counts"]["by_kind"]["enterprise"] > 0
    for spec in FEEDS:
        assert (tmp_path / spec.path).is_file()
        assert sum(1 for _ in read_feed(tmp_path, spec)) == next(
            f["rows"] for f in manifest["feeds"] if f["path"] == spec.path
        )
