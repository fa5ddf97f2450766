"""The canonical text of a record's data is the same whichever encoder writes it, and a
record's id the same whether made alone or with a chunk's."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from xinyidai.records.service import canonical, record_id, record_ids


def _reference(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
FLAT = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | TEXT
VALUES = FLAT | st.floats(allow_nan=False, allow_infinity=False) | st.lists(FLAT, max_size=3)


@settings(max_examples=500)
@given(data=st.dictionaries(TEXT, FLAT, max_size=12))
def test_flat_data_is_spelled_as_json_spells_it(data: dict[str, Any]) -> None:
    assert canonical(data) == _reference(data)


@settings(max_examples=300)
@given(data=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True), FLAT))
def test_data_built_in_key_order_is_spelled_without_sorting_again(data: dict[str, Any]) -> None:
    ordered = dict(sorted(data.items()))
    assert canonical(ordered, keys_sorted=True) == _reference(data)


@settings(max_examples=200)
@given(
    category=st.from_regex(r"[a-z][a-z_]{0,39}", fullmatch=True),
    keys=st.lists(
        st.lists(st.none() | st.integers() | st.booleans() | TEXT, min_size=1, max_size=3),
        min_size=1,
        max_size=5,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
)
def test_ids_made_together_are_those_made_alone(category: str, keys: list[list[Any]]) -> None:
    columns = [["" if v is None else str(v) for v in column] for column in zip(*keys, strict=True)]
    try:
        # The definition every stored record's id was made by: it must never change.
        expected = [
            hashlib.sha256(
                (category + "\x1f" + "\x1f".join("" if v is None else str(v) for v in row)).encode()
            ).hexdigest()[:32]
            for row in keys
        ]
    except UnicodeEncodeError:  # a lone surrogate: no id either way
        return
    assert [record_id(category, row) for row in keys] == expected
    assert record_ids(category, columns) == expected


@settings(max_examples=200)
@given(data=st.dictionaries(TEXT, VALUES, max_size=6))
def test_floats_and_nested_values_are_spelled_as_json_spells_them(data: dict[str, Any]) -> None:
    assert canonical(data) == _reference(data)


def test_the_values_that_differ_between_encoders_are_spelled_as_json_spells_them() -> None:
    awkward = {
        "control": "\x00\x01\x1f\x7f\b\f\n\r\t",
        "quote": '"\\/',
        "separators": "\u2028\u2029",
        "astral": "𠀀😀",
        "surrogate": "\ud800",
        "big": 2**64,
        "negative": -(2**63) - 1,
        "float": 1e16,
        "nested": {"b": 1, "a": [None, True]},
        "中文键": "值",
    }
    for key, value in awkward.items():
        assert canonical({key: value, "x": "y"}) == _reference({key: value, "x": "y"})
    assert canonical(awkward) == _reference(awkward)
