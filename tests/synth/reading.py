"""Reading generated feeds back the way an importer would, and judging each row."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from xinyidai.registry import codes, creditcode
from xinyidai.synth.feeds import FeedSpec

Locator = tuple[str, str]  # (line, index) as bad_rows.csv writes them


def read_feed(out: Path, spec: FeedSpec) -> Iterator[tuple[Locator, list[Any]]]:
    """Each data row of a feed with where it is, values in header order (None when empty)."""
    path = out / spec.path
    if spec.format == "csv":
        with path.open(encoding=spec.encoding, newline="") as handle:
            reader = csv.reader(handle)
            assert next(reader) == spec.headers
            for row in reader:
                yield (str(reader.line_num), ""), [value if value != "" else None for value in row]
    elif spec.format == "jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                item = json.loads(line)
                assert list(item) == spec.headers
                yield (str(number), ""), [item[h] for h in spec.headers]
    elif spec.format == "json":
        items = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(items, list)
        for index, item in enumerate(items):
            assert list(item) == spec.headers
            yield ("", str(index)), [item[h] for h in spec.headers]
    else:
        workbook = load_workbook(path, read_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        assert list(next(rows)) == spec.headers
        for number, row in enumerate(rows, start=2):
            yield (str(number), ""), list(row)
        workbook.close()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    re.compile(r"^(\d{4})/(\d{2})/(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


def parse_date(text: str) -> date | None:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                return None
    return None


def faults(spec: FeedSpec, values: list[Any]) -> set[str]:
    """The faults an importer would find in one row (duplicates are judged by the caller)."""
    found = set()
    for column, value in zip(spec.columns, values, strict=True):
        if value is None or value == "":
            if column.required:
                found.add("missing_required")
            continue
        text = str(value)
        if column.kind == "code" and not creditcode.is_valid(text):
            found.add("wrong_check_character")
        elif column.kind == "region" and not codes.is_region(text):
            found.add("unknown_region")
        elif column.kind == "industry" and not codes.is_industry(text):
            found.add("unknown_industry")
        elif column.kind == "date" and parse_date(text) is None:
            found.add("malformed_date")
        elif column.kind == "amount":
            try:
                amount = Decimal(text)
            except InvalidOperation:
                found.add("bad_amount")
                continue
            if amount < 0:
                found.add("negative_amount")
    return found


def judge(out: Path, spec: FeedSpec) -> dict[Locator, set[str]]:
    """Every row of a feed that has something wrong, with what is wrong."""
    seen: set[tuple[Any, ...]] = set()
    bad: dict[Locator, set[str]] = {}
    for locator, values in read_feed(out, spec):
        found = faults(spec, values)
        key = tuple(values)
        if key in seen:
            found.add("duplicate")
        seen.add(key)
        if found:
            bad[locator] = found
    return bad


def truth_rows(out: Path) -> list[dict[str, str]]:
    with (out / "truth" / "bad_rows.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
