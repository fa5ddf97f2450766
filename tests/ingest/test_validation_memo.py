"""A validator checks a chunk of rows down its columns: it remembers what each spelling of
a repeating field parsed to, takes a short path for the common spellings of codes, amounts
and text, and checks a chunk's credit codes as one array. Whatever the rows, a chunk gives
what checking each row alone through the fields' parsers gives, and a bad spelling is
rejected every time it comes, with its field and reason."""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest.tables import code
from xinyidai.catalog.schemas import CategorySpec
from xinyidai.catalog.service import default_specs
from xinyidai.ingest import validation
from xinyidai.ingest.validation import RowValidator

SPECS = {spec.code: spec for spec in default_specs()}
TAX = SPECS["tax_payment"]
HEADERS = [field.name for field in TAX.fields]

# Each field's spellings: good ones in several forms first, then bad ones.
SPELLINGS: dict[str, tuple[list[Any], list[Any]]] = {
    "date": (
        ["2025-01-01", "2025/1/1", "2025年1月1日", "20250101", " 2025-01-01 "],
        ["2025-02-30", "x"],
    ),
    "money": (
        ["0.00", "0", "12.50", "012.50", "1,234.5", "¥12元", " 7.10 ", "1e3", "0.001", "9" * 30],
        ["-1", "-0.01", "abc"],
    ),
    "decimal": (
        ["0.00", "1.5", "-2", "-0", "-0.0", "007", "0.000001", "0.0000001", "1.000000", "1E2"],
        ["abc"],
    ),
    "percent": (["12.5", "100", "0.0000000", "00.5"], ["x"]),
    "integer": (["0", "12", "1.0", "007", "１２"], ["1.5", "x"]),
    "region_code": (["640104", "640105", " 640104 "], ["999999"]),
    "industry_code": (["F5211", "f5211"], ["Z9999"]),
    "credit_code": (
        [code(1), code(2), code(1).lower(), " " + code(3), code(4)[:9] + " " + code(4)[9:]],
        [
            "91640104MA0000000X",  # wrong check character
            "x",
            code(5)[:17],
            code(5) + "1",
            "Z" + code(6)[1:],  # no such authority
            "9A" + code(7)[2:],  # a type authority 9 does not issue
            code(8)[:2] + "6401AB" + code(8)[8:],  # letters in the region
            code(9)[:17] + "I",  # a letter outside the alphabet
            code(10)[:17] + "码",
        ],
    ),
    "boolean": (["是", "否", "true"], ["maybe"]),
    "phone": (["13800138000", "0951-1234567"], ["123"]),
}
BLANKS = ["", "  ", "-", "无", None]


def _spellings(field_type: str, allowed: list[str] | None) -> tuple[list[Any], list[Any]]:
    if field_type == "enum":
        choices = allowed or ["a"]
        return [*choices, " " + choices[0]], ["not-allowed"]
    texts = ["纳税人", " 名称 ", "张三", "NA-1", "nan", "x" * 500]
    return SPELLINGS.get(field_type, (texts, ["x" * 600, "y" * 4001]))


def _value(field_type: str, allowed: list[str] | None) -> st.SearchStrategy[Any]:
    good, bad = _spellings(field_type, allowed)
    # Mostly good values, so that whole rows pass as often as they fail.
    return st.integers(0, 29).flatmap(
        lambda k: st.sampled_from(good) if k < 28 else st.sampled_from(bad + BLANKS)
    )


def _rows(spec: CategorySpec) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    row = st.tuples(*[_value(f.type, f.allowed_values) for f in spec.fields])
    return st.lists(row, min_size=1, max_size=40)


def _plain(spec: CategorySpec, headers: list[str]) -> RowValidator:
    """Every value through its field's parser, nothing remembered, no short path."""
    return RowValidator(spec, headers, shortcuts=False)


def _outcome(validator: RowValidator, values: list[Any], position: int) -> tuple[Any, ...]:
    return _described(*validator.validate(values, position))


def _described(fact: Any, errors: list[Any]) -> tuple[Any, ...]:
    if fact is None:
        return ("rejected", [(e.field, e.text) for e in errors])
    return ("fact", fact.record_id, fact.digest, fact.canonical, fact.event_on, fact.data)


def _chunk(validator: RowValidator, rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    outcomes = validator.validate_many(rows, list(range(len(rows))))
    return [_described(*((None, o) if isinstance(o, list) else (o, []))) for o in outcomes]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), category=st.sampled_from(sorted(SPECS)))
def test_a_chunk_gives_what_each_row_alone_gives(data: st.DataObject, category: str) -> None:
    spec = SPECS[category]
    headers = [field.name for field in spec.fields]
    rows = [list(row) for row in data.draw(_rows(spec))]
    quick = RowValidator(spec, headers)
    plain = _plain(spec, headers)
    # Twice: the second time every spelling met the first time is remembered.
    for _ in range(2):
        assert _chunk(quick, rows) == [_outcome(plain, row, i) for i, row in enumerate(rows)]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), category=st.sampled_from(sorted(SPECS)))
def test_a_remembered_value_is_what_parsing_afresh_gives(
    data: st.DataObject, category: str
) -> None:
    spec = SPECS[category]
    headers = [field.name for field in spec.fields]
    remembering = RowValidator(spec, headers)
    afresh = _plain(spec, headers)
    for position, row in enumerate(data.draw(_rows(spec))):
        assert _outcome(remembering, list(row), position) == _outcome(afresh, list(row), position)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), category=st.sampled_from(sorted(SPECS)))
def test_a_memo_that_fills_up_starts_afresh_and_still_agrees(
    data: st.DataObject, category: str
) -> None:
    spec = SPECS[category]
    headers = [field.name for field in spec.fields]
    with mock.patch.object(validation, "MEMO_LIMIT", 2):
        remembering = RowValidator(spec, headers)
        afresh = _plain(spec, headers)
        rows = [list(row) for row in data.draw(_rows(spec))]
        assert _chunk(remembering, rows) == [_outcome(afresh, row, i) for i, row in enumerate(rows)]
        assert all(len(c.memo) <= 2 for c in remembering.columns if c.memo is not None)


def test_every_category_has_fields_whose_values_are_remembered() -> None:
    for spec in SPECS.values():
        assert any(column.memo is not None for column in RowValidator(spec, []).columns)


def test_a_bad_spelling_is_rejected_each_time_with_its_field_and_reason() -> None:
    validator = RowValidator(TAX, HEADERS)
    good = {f.name: _spellings(f.type, f.allowed_values)[0][0] for f in TAX.fields}
    date_field = next(f.name for f in TAX.fields if f.type == "date" and f.required)
    bad = dict(good, **{date_field: "2025-02-30"})
    for position in range(3):
        fact, errors = validator.validate([good[h] for h in HEADERS], position)
        assert fact is not None
        assert not errors
        fact, errors = validator.validate([bad[h] for h in HEADERS], position)
        assert fact is None
        assert [(e.field, e.text) for e in errors] == [(date_field, "not a valid date: 2025-02-30")]
