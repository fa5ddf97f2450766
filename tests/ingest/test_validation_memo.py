"""A validator remembers what each spelling of a repeating field parsed to: whatever the
order of rows, a remembered value is what parsing afresh gives, and a bad spelling is
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
    "money": (["0.00", "0", "1,234.5", "¥12元", " 7.10 ", "1e3"], ["-1", "abc"]),
    "decimal": (["0.00", "1.5", "-2"], ["abc"]),
    "percent": (["12.5", "100"], ["x"]),
    "integer": (["0", "12", "1.0"], ["1.5", "x"]),
    "region_code": (["640104", "640105", " 640104 "], ["999999"]),
    "industry_code": (["F5211", "f5211"], ["Z9999"]),
    "credit_code": ([code(1), code(2), code(1).lower()], ["91640104MA0000000X", "x"]),
    "boolean": (["是", "否", "true"], ["maybe"]),
    "phone": (["13800138000", "0951-1234567"], ["123"]),
}
BLANKS = ["", "  ", "-", "无", None]


def _spellings(field_type: str, allowed: list[str] | None) -> tuple[list[Any], list[Any]]:
    if field_type == "enum":
        choices = allowed or ["a"]
        return [*choices, " " + choices[0]], ["not-allowed"]
    return SPELLINGS.get(field_type, (["纳税人", " 名称 "], ["x" * 600]))


def _value(field_type: str, allowed: list[str] | None) -> st.SearchStrategy[Any]:
    good, bad = _spellings(field_type, allowed)
    # Mostly good values, so that whole rows pass as often as they fail.
    return st.integers(0, 29).flatmap(
        lambda k: st.sampled_from(good) if k < 28 else st.sampled_from(bad + BLANKS)
    )


def _rows(spec: CategorySpec) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    row = st.tuples(*[_value(f.type, f.allowed_values) for f in spec.fields])
    return st.lists(row, min_size=1, max_size=40)


def _forgetful(spec: CategorySpec, headers: list[str]) -> RowValidator:
    """A validator that parses every value afresh (the per-field path, nothing remembered)."""
    validator = RowValidator(spec, headers)
    validator.columns = [
        (index, field, parse, None) for index, field, parse, _ in validator.columns
    ]
    return validator


def _outcome(validator: RowValidator, values: list[Any], position: int) -> tuple[Any, ...]:
    fact, errors = validator.validate(values, position)
    if fact is None:
        return ("rejected", [(e.field, e.text) for e in errors])
    return ("fact", fact.record_id, fact.digest, fact.canonical, fact.event_on, fact.data)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), category=st.sampled_from(sorted(SPECS)))
def test_a_remembered_value_is_what_parsing_afresh_gives(
    data: st.DataObject, category: str
) -> None:
    spec = SPECS[category]
    headers = [field.name for field in spec.fields]
    remembering = RowValidator(spec, headers)
    afresh = _forgetful(spec, headers)
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
        afresh = _forgetful(spec, headers)
        for position, row in enumerate(data.draw(_rows(spec))):
            got = _outcome(remembering, list(row), position)
            assert got == _outcome(afresh, list(row), position)
        assert all(len(c[3]) <= 2 for c in remembering.columns if c[3] is not None)


def test_every_category_has_fields_whose_values_are_remembered() -> None:
    for spec in SPECS.values():
        assert any(column[3] is not None for column in RowValidator(spec, []).columns)


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
