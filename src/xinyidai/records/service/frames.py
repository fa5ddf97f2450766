"""Current records in bulk as polars frames, for set-based work (the rating's indicators).

One statement per category for every subject (on PostgreSQL streamed out by COPY and
parsed by polars), or one statement for all categories for a list of subjects; the
columns are text, as stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core.db import is_postgres, lookup_chunks, read_json_lines
from xinyidai.core.errors import NotFound
from xinyidai.records.models import CreditRecord, MarkKind
from xinyidai.records.service import marks

if TYPE_CHECKING:
    import polars as pl


def category_frames(
    session: Session,
    *,
    fields: Mapping[str, Sequence[str]],
    subject_codes: Sequence[str] | None = None,
    on: date | None = None,
    skip_unknown: bool = False,
) -> dict[str, pl.DataFrame]:
    """Current records of several categories, in bulk, as text columns per category:
    ``subject_code`` and the data ``fields`` asked of that category (null where a record
    has none).

    Set-based: for every subject, one statement per category (on PostgreSQL streamed out by
    COPY and parsed by polars); for ``subject_codes``, one statement for all categories.
    With ``on``, only records of events up to that day and, for a category with a
    disclosure period, not past it (a record past its period is not used, as it is not
    shown). A category the catalogue does not have is an error, or with ``skip_unknown``
    an empty frame (it cannot hold records).
    """
    disclosure = catalog_service.disclosure_periods(session)
    unknown = [category for category in fields if category not in disclosure]
    if unknown and not skip_unknown:
        raise NotFound("no catalogue category {code}", field="category", code=unknown[0])
    wanted = {
        category: [f for f in names if f != "credit_code"] for category, names in fields.items()
    }
    frames = {category: _empty_frame(tuple(wanted[category])) for category in unknown}
    known = {c: names for c, names in wanted.items() if c not in frames}
    if subject_codes is None:
        for category, names in known.items():
            frame = _bulk_category(session, category, ["credit_code", *names], disclosure, on)
            frames[category] = frame.rename({"credit_code": "subject_code"})
    else:
        frames |= _subjects_categories(session, known, subject_codes, disclosure, on)
    return frames


@lru_cache(maxsize=64)
def _empty_frame(fields: tuple[str, ...]) -> pl.DataFrame:
    """No records: ``subject_code`` and ``fields``, all text (shared; never changed)."""
    import polars as pl

    return pl.DataFrame(schema=dict.fromkeys(("subject_code", *fields), pl.String))


def _since(on: date, days: int | None) -> date | None:
    if days is None:
        return None
    try:
        return on - timedelta(days=days)
    except OverflowError:  # before the first day a date can hold: every record counts
        return date.min


def _not_repaired(session: Session, statement: Any) -> Any:
    """``statement`` leaving out repaired records (信用修复: kept, not used) and negatives
    the restructuring policy leaves out of the rating: one small query for the marks,
    nothing added when there are none."""
    repaired = marks.repaired_ids(session, kinds=(MarkKind.REPAIRED, MarkKind.BEFORE_RESTRUCTURING))
    if not repaired:
        return statement
    return statement.where(CreditRecord.id.not_in(sorted(repaired)))


def _bulk_category(
    session: Session,
    category: str,
    wanted: list[str],
    disclosure: Mapping[str, int | None],
    on: date | None,
) -> pl.DataFrame:
    statement = select(cast(CreditRecord.data, Text)).where(CreditRecord.category == category)
    statement = _not_repaired(session, statement)
    if on is not None:
        statement = statement.where(
            or_(CreditRecord.event_on.is_(None), CreditRecord.event_on <= on)
        )
        since = _since(on, disclosure[category])
        if since is not None:
            statement = statement.where(
                or_(CreditRecord.event_on.is_(None), CreditRecord.event_on >= since)
            )
    if is_postgres(session):
        # A category's records arrive together and lie together on disk: reading them
        # through the (category, event_on) index beats the planner's default choice of
        # scanning the whole table. Local to this transaction.
        session.execute(text_sql("SET LOCAL random_page_cost = 1.1"))
    return read_json_lines(session, statement, wanted)


def _subjects_categories(
    session: Session,
    wanted: Mapping[str, list[str]],
    subject_codes: Sequence[str],
    disclosure: Mapping[str, int | None],
    on: date | None,
) -> dict[str, pl.DataFrame]:
    import polars as pl

    texts: dict[str, list[str]] = {category: [] for category in wanted}
    statement = select(CreditRecord.category, CreditRecord.event_on, cast(CreditRecord.data, Text))
    statement = _not_repaired(session, statement.where(CreditRecord.category.in_(list(wanted))))
    for condition in lookup_chunks(session, CreditRecord.subject_code, list(subject_codes)):
        for category, event_on, text in session.execute(statement.where(condition)):
            if on is not None and event_on is not None:
                since = _since(on, disclosure[category])
                if event_on > on or (since is not None and event_on < since):
                    continue
            texts[category].append(text)
    frames = {}
    for category, names in wanted.items():
        if not texts[category]:
            frames[category] = _empty_frame(tuple(names))
            continue
        documents = [json.loads(text) for text in texts[category]]
        columns = {"subject_code": [d.get("credit_code") for d in documents]}
        for name in names:
            columns[name] = [None if d.get(name) is None else str(d[name]) for d in documents]
        frames[category] = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frames
