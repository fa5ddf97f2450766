"""Checking rows against their category: every field parsed, every fault named.

A row becomes either a ``Fact`` ready to store or a list of errors — never half of each.
Rows are checked a chunk at a time, field by field down the columns: a value the field
has met before is looked up, the common spellings of codes, amounts and text take a short
path (a chunk's credit codes are checked as one array), and anything else goes through
the field's parser, which words the reason of every fault.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from xinyidai.catalog.fields import (
    BLANKS,
    CONTROL_CHARACTERS,
    TEXT_LIMITS,
    FieldError,
    Parser,
    is_blank,
    parser_for,
)
from xinyidai.catalog.schemas import CategorySpec, FieldSpec
from xinyidai.catalog.service import HeaderMap
from xinyidai.records.schemas import Fact
from xinyidai.records.service import canonical, record_ids
from xinyidai.registry import creditcode

MISSING = "required field {field} is missing"
_LONGEST_BLANK = max(len(b) for b in BLANKS)

# Field types whose values repeat across a file (dates, codes, allowed values, amounts such
# as 0.00): the value each spelling parses to is remembered per table, the last MEMO_LIMIT
# spellings or fewer per field (a full memo starts afresh). Parsing is a pure function of
# the text, so a remembered spelling gives what parsing it again would; a spelling that
# fails is never remembered.
MEMO_TYPES = frozenset(
    {
        "date",
        "enum",
        "boolean",
        "credit_code",
        "region_code",
        "industry_code",
        "money",
        "decimal",
        "percent",
        "integer",
    }
)
MEMO_LIMIT = 4096
_NOT_UNICODE = "row holds text that is not valid Unicode"
_UNSEEN = object()
_ABSENT = object()  # a blank value: its field is left out of the row's data

# Spellings that are already what their field's parser would make of them.
_PLAIN_MONEY = re.compile(r"(?:0|[1-9]\d{0,17})\.\d\d")
_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9]\d{0,17})(?:\.\d{1,6})?")
_PLAIN_UNSIGNED = re.compile(r"(?:0|[1-9]\d{0,17})(?:\.\d{1,6})?")

# Fills in the values of a column (by row) it can vouch for and leaves the rest _UNSEEN.
Shortcut = Callable[[list[Any], list[Any], list[int]], None]


@dataclass(frozen=True, slots=True)
class RowError:
    """One fault of one row: the field (or None for the row) and the reason."""

    field: str | None
    reason: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return self.reason.format(**self.params) if self.params else self.reason

    def as_dict(self) -> dict[str, Any]:
        """As stored with the rejection: the English text, and the message id with its
        values so that a page can show the reason in its reader's language."""
        return {
            "field": self.field,
            "reason": self.text,
            "message": self.reason,
            "params": {key: _jsonable(value) for key, value in self.params.items()},
        }


@dataclass(slots=True)
class Column:
    """One field of the category and where its values are in the table (None: nowhere)."""

    index: int | None
    field: FieldSpec
    parse: Parser
    memo: dict[str, Any] | None
    shortcut: Shortcut | None


class RowValidator:
    """Validates rows of one table (its headers mapped once) against one category.

    ``shortcuts=False`` sends every value through its field's parser, nothing remembered:
    the plain path the shortcuts are held to.
    """

    def __init__(self, spec: CategorySpec, headers: list[str], *, shortcuts: bool = True) -> None:
        self.spec = spec
        self.headers = headers
        self.mapped, self.unknown = HeaderMap(spec).resolve(headers)
        by_field = {f.name: i for i, f in self.mapped.items()}
        self.columns = [
            Column(
                by_field.get(field.name),
                field,
                parser_for(field.type, allowed=field.allowed_values, minimum=field.minimum),
                {} if shortcuts and field.type in MEMO_TYPES else None,
                _shortcut(field) if shortcuts else None,
            )
            for field in spec.fields
        ]
        self.date_field = next(
            (f.name for f in spec.fields if f.type == "date" and f.required), None
        )
        self._days: dict[str, date] = {}

    def _day(self, text: str) -> date:
        """The event date of a fact (its ISO text parsed once per table)."""
        day = self._days.get(text)
        if day is None:
            day = date.fromisoformat(text)
            if len(self._days) >= MEMO_LIMIT:
                self._days.clear()
            self._days[text] = day
        return day

    def raw(self, values: list[Any]) -> dict[str, Any]:
        """The row as sent, header → value, for the rejection file."""
        row: dict[str, Any] = {}
        for index, header in enumerate(self.headers):
            value = values[index] if index < len(values) else None
            row[header or f"column_{index + 1}"] = None if value is None else _jsonable(value)
        for index in range(len(self.headers), len(values)):
            row[f"column_{index + 1}"] = _jsonable(values[index])
        return row

    def validate(self, values: list[Any], position: int) -> tuple[Fact | None, list[RowError]]:
        """One row: its fact, or None and every fault it has."""
        (outcome,) = self.validate_many([values], [position])
        return (None, outcome) if isinstance(outcome, list) else (outcome, [])

    def validate_many(
        self, rows: Sequence[list[Any]], positions: Sequence[int]
    ) -> list[Fact | list[RowError]]:
        """Each row's fact, or the list of its faults (in field order), in row order."""
        count = len(rows)
        if not count:
            return []
        faults = self._width_faults(rows)
        sparse: set[int] = set()  # rows with a blank field, left out of their data
        names, parsed = self._parsed_columns(rows, faults, sparse)
        if not parsed:  # no field of the category is in the table
            return [faults.get(i, []) for i in range(count)]
        keys = [
            _key_text(parsed[names.index(name)]) if name in names else [""] * count
            for name in self.spec.key_fields
        ]
        try:
            ids = record_ids(self.spec.code, keys)
        except UnicodeEncodeError:  # a lone surrogate (an escape in JSON) in some key
            ids = [self._id_or_fault(keys, i, faults) for i in range(count)]
        return self._facts(names, parsed, ids, positions, faults, sparse)

    def _width_faults(self, rows: Sequence[list[Any]]) -> dict[int, list[RowError]]:
        """The rows with values past the header (row index → that fault)."""
        faults: dict[int, list[RowError]] = {}
        width = len(self.headers)
        for i, values in enumerate(rows):
            if len(values) > width and any(not is_blank(v) for v in values[width:]):
                faults[i] = [
                    RowError(
                        None,
                        "row has {count} values but the header has {headers} columns",
                        {"count": len(values), "headers": width},
                    )
                ]
        return faults

    def _parsed_columns(
        self, rows: Sequence[list[Any]], faults: dict[int, list[RowError]], sparse: set[int]
    ) -> tuple[list[str], list[list[Any]]]:
        """The fields the table has and their parsed values, a column at a time; a missing
        required field, and every value at fault, added to ``faults``."""
        count = len(rows)
        shortest = min(map(len, rows))
        names: list[str] = []
        parsed: list[list[Any]] = []
        for column in self.columns:
            index = column.index
            if index is None:
                if column.field.required:
                    missing = RowError(column.field.name, MISSING, {"field": column.field.name})
                    for i in range(count):
                        faults.setdefault(i, []).append(missing)
                continue
            if index < shortest:
                raw = [values[index] for values in rows]
            else:
                raw = [values[index] if index < len(values) else None for values in rows]
            names.append(column.field.name)
            parsed.append(_values(column, raw, faults, sparse))
        return names, parsed

    def _facts(
        self,
        names: list[str],
        parsed: list[list[Any]],
        ids: list[str],
        positions: Sequence[int],
        faults: dict[int, list[RowError]],
        sparse: set[int],
    ) -> list[Fact | list[RowError]]:
        """Each row's fact, built from its parsed values, or its faults."""
        # The data of each row is built in the order of its keys: its canonical text is then
        # written without sorting them again.
        order = sorted(range(len(names)), key=names.__getitem__)
        names = [names[j] for j in order]
        date_field = self.date_field or ""
        dated = date_field in names
        day = self._day
        sha256 = hashlib.sha256
        outcomes: list[Fact | list[RowError]] = []
        for i, values in enumerate(zip(*[parsed[j] for j in order], strict=True)):
            errors = faults.get(i)
            if errors is not None:
                outcomes.append(errors)
                continue
            if i in sparse:
                data = {n: v for n, v in zip(names, values, strict=True) if v is not _ABSENT}
            else:
                data = dict(zip(names, values, strict=True))
            text = canonical(data, keys_sorted=True)
            try:
                digest = sha256(text.encode("utf-8")).hexdigest()
            except UnicodeEncodeError:
                outcomes.append([RowError(None, _NOT_UNICODE, {})])
                continue
            event = data.get(date_field) if dated else None
            outcomes.append(
                Fact(
                    ids[i],
                    data["credit_code"],
                    data,
                    digest,
                    day(event) if event else None,
                    positions[i],
                    text,
                )
            )
        return outcomes

    def _id_or_fault(self, keys: list[list[str]], i: int, faults: dict[int, list[RowError]]) -> str:
        try:
            return record_ids(self.spec.code, [[column[i]] for column in keys])[0]
        except UnicodeEncodeError:
            faults.setdefault(i, []).append(RowError(None, _NOT_UNICODE, {}))
            return ""


def _key_text(values: list[Any]) -> list[str]:
    """A key column's values as the text a record id is made of ("" for none)."""
    return [
        value
        if value.__class__ is str
        else ("" if value is None or value is _ABSENT or value is _UNSEEN else str(value))
        for value in values
    ]


def _values(
    column: Column, raw: list[Any], faults: dict[int, list[RowError]], sparse: set[int]
) -> list[Any]:
    """A column's values parsed, row by row: a value, _ABSENT for a blank, or a fault
    added to ``faults`` (and anything in that row's place)."""
    memo = column.memo
    if memo is not None:
        known = memo.get
        out = [known(value, _UNSEEN) if value.__class__ is str else _UNSEEN for value in raw]
        todo = [i for i, value in enumerate(out) if value is _UNSEEN]
    else:
        out = [_UNSEEN] * len(raw)
        todo = list(range(len(raw)))
    if todo and column.shortcut is not None:
        column.shortcut(raw, out, todo)
        rest = []
        for i in todo:
            result = out[i]
            if result is _UNSEEN:
                rest.append(i)
            else:
                _remember(memo, raw[i], result)
        todo = rest
    field, parse = column.field, column.parse
    for i in todo:
        value = raw[i]
        if value.__class__ is str:
            blank = _blank_text(value.strip())
        else:
            blank = value is None or is_blank(value)
        if blank:
            out[i] = _ABSENT
            sparse.add(i)
            if field.required:
                faults.setdefault(i, []).append(
                    RowError(field.name, MISSING, {"field": field.name})
                )
            continue
        try:
            result = parse(value)
        except FieldError as exc:
            faults.setdefault(i, []).append(RowError(field.name, exc.reason, exc.params))
            continue
        out[i] = result
        _remember(memo, value, result)
    return out


def _remember(memo: dict[str, Any] | None, value: Any, result: Any) -> None:
    """Keep what a text spelling parsed to (the memo is looked up by text alone)."""
    if memo is not None and value.__class__ is str:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()  # start afresh: a file's rows keep a subject's rows together
        memo[value] = result


def _blank_text(stripped: str) -> bool:
    """Whether stripped text is one of the spellings of nothing."""
    return not stripped or (len(stripped) <= _LONGEST_BLANK and stripped.lower() in BLANKS)


def _shortcut(field: FieldSpec) -> Shortcut | None:
    """The short path of a field's common spellings, if its type has one."""
    if field.type in TEXT_LIMITS:
        return _text_shortcut(TEXT_LIMITS[field.type])
    if field.type == "credit_code":
        return _codes
    if field.type == "money" and not field.minimum:
        return _matching(_PLAIN_MONEY)
    if field.type in ("decimal", "percent"):
        if field.minimum is None:
            return _matching(_PLAIN_DECIMAL)
        if field.minimum == 0:
            return _matching(_PLAIN_UNSIGNED)
        return None
    if field.type == "integer" and (field.minimum is None or field.minimum <= 0):
        return _whole_numbers
    return None


def _text_shortcut(limit: int) -> Shortcut:
    """Text within its length and free of control characters is kept as it is (the parser
    words the reason of any other)."""
    control = CONTROL_CHARACTERS.search

    def run(raw: list[Any], out: list[Any], todo: list[int]) -> None:
        for i in todo:
            value = raw[i]
            if value.__class__ is str:
                text = value.strip()
                if len(text) <= limit and not _blank_text(text) and control(text) is None:
                    out[i] = text

    return run


def _matching(pattern: re.Pattern[str]) -> Shortcut:
    """Amounts already spelled as the parser writes them are kept as they are."""
    fullmatch = pattern.fullmatch

    def run(raw: list[Any], out: list[Any], todo: list[int]) -> None:
        for i in todo:
            value = raw[i]
            if value.__class__ is str and fullmatch(value):
                out[i] = value

    return run


def _whole_numbers(raw: list[Any], out: list[Any], todo: list[int]) -> None:
    for i in todo:
        value = raw[i]
        if value.__class__ is int:
            if value >= 0:
                out[i] = value
        elif value.__class__ is str and value.isascii() and value.isdigit():
            out[i] = int(value)


def _codes(raw: list[Any], out: list[Any], todo: list[int]) -> None:
    """A chunk's credit codes checked at once; those turned down are parsed alone."""
    rows = [i for i in todo if raw[i].__class__ is str]
    codes = [creditcode.normalize(raw[i]) for i in rows]
    for i, code, valid in zip(rows, codes, creditcode.valid_many(codes), strict=True):
        if valid:
            out[i] = code


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
