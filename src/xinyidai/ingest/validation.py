"""Checking one row against its category: every field parsed, every fault named.

A row becomes either a ``Fact`` ready to store or a list of errors — never half of each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from xinyidai.catalog.fields import BLANKS, FieldError, Parser, is_blank, parser_for
from xinyidai.catalog.schemas import CategorySpec, FieldSpec
from xinyidai.catalog.service import HeaderMap
from xinyidai.records.schemas import Fact
from xinyidai.records.service import canonical, record_id

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
_UNSEEN = object()


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


class RowValidator:
    """Validates rows of one table (its headers mapped once) against one category."""

    def __init__(self, spec: CategorySpec, headers: list[str]) -> None:
        self.spec = spec
        self.headers = headers
        self.mapped, self.unknown = HeaderMap(spec).resolve(headers)
        by_field = {f.name: i for i, f in self.mapped.items()}
        self.columns: list[tuple[int | None, FieldSpec, Parser, dict[str, Any] | None]] = [
            (
                by_field.get(field.name),
                field,
                parser_for(field.type, allowed=field.allowed_values, minimum=field.minimum),
                {} if field.type in MEMO_TYPES else None,
            )
            for field in spec.fields
        ]
        self.missing_columns = [
            f.name for f in spec.fields if f.required and f.name not in by_field
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
        data: dict[str, Any] = {}
        errors: list[RowError] = []
        if len(values) > len(self.headers) and any(
            not is_blank(v) for v in values[len(self.headers) :]
        ):
            errors.append(
                RowError(
                    None,
                    "row has {count} values but the header has {headers} columns",
                    {"count": len(values), "headers": len(self.headers)},
                )
            )
        width = len(values)
        for index, field, parse, memo in self.columns:
            raw = values[index] if index is not None and index < width else None
            if memo is not None and raw.__class__ is str:
                known = memo.get(raw, _UNSEEN)
                if known is not _UNSEEN:
                    data[field.name] = known
                    continue
            if raw.__class__ is str:
                stripped = raw.strip()
                blank = not stripped or (
                    len(stripped) <= _LONGEST_BLANK and stripped.lower() in BLANKS
                )
            else:
                blank = raw is None or is_blank(raw)
            if blank:
                if field.required:
                    errors.append(
                        RowError(
                            field.name, "required field {field} is missing", {"field": field.name}
                        )
                    )
                continue
            try:
                value = parse(raw)
            except FieldError as exc:
                errors.append(RowError(field.name, exc.reason, exc.params))
                continue
            data[field.name] = value
            if memo is not None and raw.__class__ is str:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()  # start afresh: a file's rows keep a subject's rows together
                memo[raw] = value
        if errors:
            return None, errors
        keys = [data.get(name) for name in self.spec.key_fields]
        event = data.get(self.date_field) if self.date_field else None
        text = canonical(data)
        return (
            Fact(
                record_id=record_id(self.spec.code, keys),
                subject_code=data["credit_code"],
                data=data,
                digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                event_on=self._day(event) if event else None,
                position=position,
                canonical=text,
            ),
            [],
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
