"""Records read back: a subject's current records with their history, one record's
versions, the current data of many subjects in bulk, and the change marks to look for what
changed since.

A record's current version is its ``credit_record`` row; ``credit_record_version`` holds
the versions it left behind. A record past its category's disclosure period is not shown
(nor used) unless the caller asks for it for the operator's duty.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.db import lookup_chunks
from xinyidai.core.errors import NotFound
from xinyidai.records.models import CreditRecord, MarkKind, RecordVersion
from xinyidai.records.schemas import CategoryRecords, CurrentData, RecordOut, RecordVersionOut
from xinyidai.records.service import marks


def expired(event_on: date | None, disclosure_days: int | None, today: date) -> bool:
    """Whether a record of an event on ``event_on`` is past its disclosure period today."""
    if event_on is None or disclosure_days is None:
        return False
    # today - event_on never overflows (both are dates); event_on + the period could
    return (today - event_on).days > disclosure_days


def records_of(
    session: Session,
    *,
    subject_code: str,
    categories: Sequence[str] | None = None,
    include_expired: bool = False,
    with_history: bool = False,
) -> list[CategoryRecords]:
    """The subject's current records grouped by category, in catalogue order.

    A negative record whose disclosure period has passed is not shown (征信业管理条例:
    five years at most), nor one repaired (信用修复: kept, no longer disclosed);
    ``include_expired`` is for the operator's duty, never for display. Each record carries
    the kinds of its active marks (an objection in progress).
    """
    stmt = select(CreditRecord).where(CreditRecord.subject_code == subject_code)
    if categories:
        stmt = stmt.where(CreditRecord.category.in_(list(categories)))
    rows = session.scalars(stmt.order_by(CreditRecord.category, CreditRecord.event_on)).all()
    history = _histories(session, rows) if with_history else {}
    pinned = marks.active_marks(session, record_ids=[row.id for row in rows])
    today = clock.today()
    grouped: dict[str, CategoryRecords] = {}
    specs = catalog_service.specs_in_force(session)
    for category in specs.values():
        if categories and category.code not in categories:
            continue
        grouped[category.code] = CategoryRecords(
            category=category.code,
            name_zh=category.name_zh,
            name_en=category.name_en,
            sensitivity=category.sensitivity,
            records=[],
        )
    disclosure = {code: spec.disclosure_days for code, spec in specs.items()}
    for row in rows:
        group = grouped.get(row.category)
        if group is None:
            continue
        if not include_expired and expired(row.event_on, disclosure.get(row.category), today):
            group.hidden_expired += 1
            continue
        kinds = pinned.get(row.id, set())
        if MarkKind.REPAIRED in kinds and not include_expired:
            continue
        group.records.append(
            RecordOut(
                id=row.id,
                category=row.category,
                subject_code=row.subject_code,
                data=row.data,
                event_on=row.event_on,
                version=row.version,
                provider=row.provider,
                sources=row.sources,
                updated_at=row.updated_at,
                history=history.get(row.id, []) if with_history else None,
                marks=sorted(kinds),
            )
        )
    return [group for group in grouped.values() if group.records or group.hidden_expired]


BULK_ROWS = 5000


def _disclosure_days(session: Session) -> dict[str, int | None]:
    """Each category's disclosure period, read once per session (bulk reads come in many
    small calls within one request or job)."""
    cached = session.info.get("records.disclosure_days")
    if cached is None:
        cached = session.info["records.disclosure_days"] = {
            code: spec.disclosure_days
            for code, spec in catalog_service.specs_in_force(session).items()
        }
    return dict(cached)


def current_data(
    session: Session,
    *,
    categories: Sequence[str],
    subject_codes: Iterable[str] | None = None,
    include_expired: bool = False,
) -> Iterator[CurrentData]:
    """The current data of the records of some categories, for some subjects or for all.

    The bulk read of region-wide work (association analysis, ratings): streamed, in no
    particular order. Records past their disclosure period are left out, as on screen,
    unless ``include_expired``.
    """
    disclosure = _disclosure_days(session)
    today = clock.today()
    # Repaired records are left out as on screen (rare: one small query, then the fast path)
    repaired = set() if include_expired else marks.repaired_ids(session)
    if repaired:
        yield from _current_data_without(
            session, repaired, categories, subject_codes, disclosure, today, include_expired
        )
        return
    columns = (
        CreditRecord.subject_code,
        CreditRecord.category,
        CreditRecord.data,
        CreditRecord.event_on,
    )
    wanted = list(categories)
    if subject_codes is None:
        statements = [
            select(*columns)
            .where(CreditRecord.category.in_(wanted))
            .execution_options(yield_per=BULK_ROWS)
        ]
    else:
        statements = [
            select(*columns).where(condition, CreditRecord.category.in_(wanted))
            for condition in lookup_chunks(
                session, CreditRecord.subject_code, sorted(set(subject_codes))
            )
        ]
    for statement in statements:
        for subject, category, data, event_on in session.execute(statement):
            if not include_expired and expired(event_on, disclosure.get(category), today):
                continue
            yield CurrentData(subject, category, data, event_on)


def _current_data_without(
    session: Session,
    repaired: set[str],
    categories: Sequence[str],
    subject_codes: Iterable[str] | None,
    disclosure: dict[str, int | None],
    today: date,
    include_expired: bool,
) -> Iterator[CurrentData]:
    """``current_data`` leaving out the ``repaired`` records (their ids read too)."""
    columns = (
        CreditRecord.id,
        CreditRecord.subject_code,
        CreditRecord.category,
        CreditRecord.data,
        CreditRecord.event_on,
    )
    wanted = list(categories)
    if subject_codes is None:
        statements = [
            select(*columns)
            .where(CreditRecord.category.in_(wanted))
            .execution_options(yield_per=BULK_ROWS)
        ]
    else:
        statements = [
            select(*columns).where(condition, CreditRecord.category.in_(wanted))
            for condition in lookup_chunks(
                session, CreditRecord.subject_code, sorted(set(subject_codes))
            )
        ]
    for statement in statements:
        for rid, subject, category, data, event_on in session.execute(statement):
            if rid in repaired:
                continue
            if not include_expired and expired(event_on, disclosure.get(category), today):
                continue
            yield CurrentData(subject, category, data, event_on)


def last_change_id(session: Session) -> int:
    """The newest change mark (0 when there are no records): a mark to look for changes
    after."""
    return int(session.scalar(select(func.max(CreditRecord.change_id))) or 0)


def changed_subjects(
    session: Session,
    *,
    categories: Sequence[str],
    after: int,
    up_to: int | None = None,
    limit: int | None = None,
) -> tuple[set[str], bool]:
    """Subjects whose records of these categories got a version after the mark ``after``
    (up to ``up_to``): the set, and whether it is complete (False past ``limit``)."""
    stmt = select(CreditRecord.subject_code).where(
        CreditRecord.change_id > after, CreditRecord.category.in_(list(categories))
    )
    if up_to is not None:
        stmt = stmt.where(CreditRecord.change_id <= up_to)
    found: set[str] = set()
    for (subject,) in session.execute(stmt.execution_options(yield_per=BULK_ROWS)):
        found.add(subject)
        if limit is not None and len(found) > limit:
            return found, False
    return found, True


def changed_after(
    session: Session,
    *,
    categories: Sequence[str],
    after: tuple[int, str],
    limit: int,
) -> list[CreditRecord]:
    """Current records of these categories whose version came after the mark ``after``, a
    change mark and a record id (``(0, "")``: from the start), in mark order, at most
    ``limit``: a reader that keeps the last row's ``(change_id, id)`` resumes exactly there
    even when one mark wrote more rows than a page holds."""
    mark, rid = after
    stmt = (
        select(CreditRecord)
        .where(
            CreditRecord.category.in_(list(categories)),
            (CreditRecord.change_id > mark)
            | ((CreditRecord.change_id == mark) & (CreditRecord.id > rid)),
        )
        .order_by(CreditRecord.change_id, CreditRecord.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def pending_after(
    session: Session, *, categories: Sequence[str], after: tuple[int, str]
) -> tuple[int, datetime | None]:
    """How many current records of these categories came after the mark ``after`` (as
    ``changed_after`` reads it), and when the oldest of them was stored."""
    mark, rid = after
    found = session.execute(
        select(func.count(), func.min(CreditRecord.updated_at)).where(
            CreditRecord.category.in_(list(categories)),
            (CreditRecord.change_id > mark)
            | ((CreditRecord.change_id == mark) & (CreditRecord.id > rid)),
        )
    ).one()
    return int(found[0] or 0), found[1]


def get_or_raise(session: Session, *, record_id: str) -> CreditRecord:
    record = session.scalars(select(CreditRecord).where(CreditRecord.id == record_id)).first()
    if record is None:
        raise NotFound("no record {record_id}", field="record_id", record_id=record_id)
    return record


def _version_out(row: CreditRecord | RecordVersion, created_at: datetime) -> RecordVersionOut:
    return RecordVersionOut(
        version=row.version,
        data=row.data,
        digest=row.digest,
        provider=row.provider,
        batch_id=row.batch_id,
        category_version=row.category_version,
        created_at=created_at,
    )


def _histories(
    session: Session, records: Sequence[CreditRecord]
) -> dict[str, list[RecordVersionOut]]:
    """Every version of each record, newest first: its row (the current version), then the
    past versions it left behind."""
    found = {record.id: [_version_out(record, record.updated_at)] for record in records}
    categories = {record.id: record.category for record in records}
    for condition in lookup_chunks(session, RecordVersion.record_id, list(found)):
        past = select(RecordVersion).where(condition).order_by(RecordVersion.version.desc())
        for version in session.scalars(past):
            if categories.get(version.record_id) == version.category:
                found[version.record_id].append(_version_out(version, version.created_at))
    return found


def versions_of(session: Session, *, record_id: str) -> list[RecordVersionOut]:
    """Every version of one record, newest first."""
    return _histories(session, [get_or_raise(session, record_id=record_id)])[record_id]


def counts_by_category(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(CreditRecord.category, func.count()).group_by(CreditRecord.category)
    )
    return {category: int(count) for category, count in rows}


def orphan_versions(session: Session) -> int:
    """Versions whose record is missing: zero unless something wrote around ``store``."""
    record = CreditRecord.__table__
    version = RecordVersion.__table__
    return int(
        session.scalar(
            select(func.count())
            .select_from(
                version.outerjoin(
                    record,
                    (record.c.id == version.c.record_id)
                    & (record.c.category == version.c.category),
                )
            )
            .where(record.c.id.is_(None))
        )
        or 0
    )
