"""Business logic of the records: store facts with dedup and versions, read them back.

The same fact (same category, same key fields) always maps to the same record id. Sent
again unchanged, by anyone, it is a duplicate; changed, it is a new version that keeps the
old one; changed by a different department than the last sender, it is also a conflict
flagged for the operator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Text, bindparam, cast, func, insert, or_, select, update
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core.db import (
    COPY_NULL,
    RawJSON,
    bulk_insert,
    copy_lines,
    copy_text,
    is_postgres,
    lookup_chunks,
    read_json_lines,
)
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.records.models import CreditRecord, RecordConflict, RecordVersion
from xinyidai.records.schemas import (
    CategoryRecords,
    CurrentData,
    Fact,
    RecordLedgerOut,
    RecordOut,
    RecordVersionOut,
    StoreResult,
)

if TYPE_CHECKING:
    import polars as pl

LEDGER_KIND = "record.version"

# Called after facts of one category were stored as new versions (new or changed), inside
# the same transaction: how a domain above (the rating) learns of records as they arrive
# without records knowing it.
StoredListener = Callable[[Session, str, Sequence[Fact]], None]
_stored_listeners: list[StoredListener] = []


def on_stored(listener: StoredListener) -> None:
    """Call ``listener(session, category, facts)`` whenever facts are stored as new versions."""
    if listener not in _stored_listeners:
        _stored_listeners.append(listener)


_listeners_paused: ContextVar[bool] = ContextVar("xyd_records_listeners_paused", default=False)


@contextmanager
def listeners_paused() -> Iterator[None]:
    """Store without telling the listeners: a bulk load whose caller catches up once after
    (a full rating run instead of re-rating every chunk's subjects as they arrive)."""
    token = _listeners_paused.set(True)
    try:
        yield
    finally:
        _listeners_paused.reset(token)


def listener_modules() -> list[str]:
    """The modules that registered listeners: a fresh process imports them to listen too."""
    return sorted({listener.__module__ for listener in _stored_listeners})


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_FLAT = frozenset({str, int, bool, type(None)})


def canonical(data: dict[str, Any], *, keys_sorted: bool = False) -> str:
    """The canonical JSON text of a record's data (sorted keys, no spaces).

    The text is that of Python's ``json`` with sorted keys, no spaces and no ASCII escapes.
    A record's data as validation makes it (field name → text, whole number, yes/no or
    nothing) is written by orjson, about twice as fast and the same text (a property test
    holds the two to that); anything else (floats, nested values, numbers past 64 bits, text
    that is not valid Unicode) by ``json`` itself. ``keys_sorted`` says the dict's keys are
    already in order (validation builds them so), which spares sorting them again.
    """
    for value in data.values():
        if value.__class__ not in _FLAT:
            return _CANONICAL.encode(data)
    try:
        return orjson.dumps(data, option=0 if keys_sorted else orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        return _CANONICAL.encode(data)


def record_id(category: str, key_values: Sequence[Any]) -> str:
    """The id of the fact a category's key values name: the same fact, the same id."""
    return record_ids(category, [["" if v is None else str(v)] for v in key_values])[0]


def record_ids(category: str, key_columns: Sequence[Sequence[str]]) -> list[str]:
    """``record_id`` of many facts at once, from their key values as text ("" for none),
    one list per key field."""
    prefix = category + "\x1f"
    sha256 = hashlib.sha256
    return [
        sha256((prefix + "\x1f".join(keys)).encode("utf-8")).hexdigest()[:32]
        for keys in zip(*key_columns, strict=True)
    ]


JSON_COLUMNS = ("data", "sources")
Raw = RawJSON


@dataclass(slots=True)
class _Current:
    id: str
    digest: str
    version: int
    provider: str
    sources: list[str]


def _existing(session: Session, category: str, ids: list[str]) -> dict[str, _Current]:
    found: dict[str, _Current] = {}
    columns = (
        CreditRecord.id,
        CreditRecord.digest,
        CreditRecord.version,
        CreditRecord.provider,
        CreditRecord.sources,
    )
    for condition in lookup_chunks(session, CreditRecord.id, ids):
        # Naming the category keeps the lookup inside one partition on PostgreSQL.
        query = select(*columns).where(CreditRecord.category == category, condition)
        for row in session.execute(query):
            found[row[0]] = _Current(*row)
    return found


def _current_data(session: Session, category: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current data of some records (read only where a conflict names changed fields)."""
    found: dict[str, dict[str, Any]] = {}
    for condition in lookup_chunks(session, CreditRecord.id, ids):
        query = select(CreditRecord.id, CreditRecord.data).where(
            CreditRecord.category == category, condition
        )
        for rid, data in session.execute(query):
            found[rid] = data
    return found


def store(
    session: Session,
    *,
    category: str,
    category_version: int,
    provider: str,
    batch_id: str | None,
    facts: Sequence[Fact],
) -> StoreResult:
    """Store facts of one category from one provider: insert, update with history, or count."""
    result = StoreResult()
    now = clock.now()
    latest: dict[str, Fact] = {}
    for fact in facts:
        # Within one delivery the last row for a fact wins; an earlier row it replaces is
        # counted as a duplicate, so that sending the same delivery again changes nothing.
        if fact.record_id in latest:
            result.duplicates += 1
        latest[fact.record_id] = fact
    existing = _existing(session, category, list(latest))
    new: list[tuple[Fact, bytes]] = []
    revised: list[dict[str, Any]] = []  # records given a new version
    gained: list[dict[str, Any]] = []  # records that only gained a source
    versions: list[tuple[Fact, int, bytes]] = []
    disputed: list[tuple[Fact, _Current, int]] = []
    # The salt of each new version's ledger commitment, drawn for the chunk at once.
    salts = iter(ledger_service.new_salts(len(latest)))
    for rid, fact in latest.items():
        current = existing.get(rid)
        if current is None:
            salt = next(salts)
            new.append((fact, salt))
            versions.append((fact, 1, salt))
            continue
        if current.digest == fact.digest:
            result.duplicates += 1
            if provider not in current.sources:
                gained.append({"rid": rid, "sources": [*current.sources, provider]})
            continue
        version = current.version + 1
        salt = next(salts)
        if current.provider != provider:
            disputed.append((fact, current, version))
        sources = current.sources if provider in current.sources else [*current.sources, provider]
        revised.append(
            {
                "rid": rid,
                "data": fact.data,
                "digest": fact.digest,
                "event_on": fact.event_on,
                "category_version": category_version,
                "version": version,
                "provider": provider,
                "batch_id": batch_id,
                "updated_at": now,
                "sources": sources,
                "salt": salt,
            }
        )
        versions.append((fact, version, salt))
    conflicts = _conflicts(session, category, provider, batch_id, now, disputed)
    result.accepted = len(new)
    result.updated = len(versions) - len(new)
    mark = _next_change_id(session) if versions else 0
    written = _Written(category, category_version, provider, batch_id, now, mark)
    if new:
        _insert_records(session, written, new)
        _first_statistics(session, category)
    _keep_past_versions(session, category, [row["rid"] for row in revised])
    _apply_changes(session, category, [row | {"change_id": mark} for row in revised] + gained)
    if versions:
        ledger_service.append_digests(
            session,
            kind=LEDGER_KIND,
            actor=ledger_actor(provider),
            items=[
                (fact.subject_code, f"{fact.record_id}:{version}", fact.digest, salt)
                for fact, version, salt in versions
            ],
        )
    if conflicts:
        session.execute(insert(RecordConflict), conflicts)
        result.conflicts += len(conflicts)
    if versions and _stored_listeners and not _listeners_paused.get():
        stored = [fact for fact, _, _ in versions]
        for listener in list(_stored_listeners):
            listener(session, category, stored)
    return result


@dataclass(frozen=True, slots=True)
class _Written:
    """What every row written by one ``store`` call has in common."""

    category: str
    category_version: int
    provider: str
    batch_id: str | None
    now: datetime
    change_id: int


_RECORD_COLUMNS = (
    "id",
    "category",
    "subject_code",
    "data",
    "digest",
    "event_on",
    "category_version",
    "version",
    "provider",
    "sources",
    "batch_id",
    "created_at",
    "updated_at",
    "change_id",
    "salt",
)


def _insert_records(session: Session, written: _Written, facts: list[tuple[Fact, bytes]]) -> None:
    """New records, each at version 1 with its salt (on PostgreSQL one COPY of lines built
    here)."""
    sources = json.dumps([written.provider], ensure_ascii=False, separators=(",", ":"))
    if not is_postgres(session):
        rows = [
            {
                "id": fact.record_id,
                "category": written.category,
                "subject_code": fact.subject_code,
                "data": Raw(fact.canonical),
                "digest": fact.digest,
                "event_on": fact.event_on,
                "category_version": written.category_version,
                "version": 1,
                "provider": written.provider,
                "sources": Raw(sources),
                "batch_id": written.batch_id,
                "created_at": written.now,
                "updated_at": written.now,
                "change_id": written.change_id,
                "salt": salt,
            }
            for fact, salt in facts
        ]
        bulk_insert(session, CreditRecord.__table__, rows, json_columns=JSON_COLUMNS)
        return
    category = copy_text(written.category)
    batch = COPY_NULL if written.batch_id is None else copy_text(written.batch_id)
    moment = written.now.isoformat()
    tail = (
        f"{written.category_version}\t1\t{copy_text(written.provider)}\t{copy_text(sources)}"
        f"\t{batch}\t{moment}\t{moment}\t{written.change_id}\t\\\\x"
    )
    # Ids and digests are hex, subjects checked credit codes: only the data needs escaping.
    # The salt ends the line as bytea hex.
    lines = [
        f"{fact.record_id}\t{category}\t{fact.subject_code}\t{copy_text(fact.canonical)}"
        f"\t{fact.digest}\t{COPY_NULL if fact.event_on is None else fact.event_on.isoformat()}"
        f"\t{tail}{salt.hex()}\n"
        for fact, salt in facts
    ]
    copy_lines(session, CreditRecord.__table__, _RECORD_COLUMNS, lines)


CHANGE_SEQUENCE = "credit_record_change_seq"


def _next_change_id(session: Session) -> int:
    """The mark of one ``store`` call: above every mark already committed.

    PostgreSQL takes it from a sequence, so writers side by side never wait on each other;
    SQLite has one writer at a time, so one past the highest stored mark is safe there.
    """
    if is_postgres(session):
        return int(session.scalar(text_sql(f"SELECT nextval('{CHANGE_SEQUENCE}')")) or 0)
    return last_change_id(session) + 1


# What a past version keeps of the record row it was (the row's ``updated_at`` is when that
# version was stored).
_PAST_COLUMNS = (
    ("record_id", CreditRecord.id),
    ("version", CreditRecord.version),
    ("subject_code", CreditRecord.subject_code),
    ("category", CreditRecord.category),
    ("data", CreditRecord.data),
    ("digest", CreditRecord.digest),
    ("category_version", CreditRecord.category_version),
    ("provider", CreditRecord.provider),
    ("batch_id", CreditRecord.batch_id),
    ("created_at", CreditRecord.updated_at),
    ("salt", CreditRecord.salt),
)


def _keep_past_versions(session: Session, category: str, ids: list[str]) -> None:
    """Copy the current rows of records about to change into the past versions, on the
    server (the data does not travel): what a record was stays readable once it changes."""
    names = [name for name, _ in _PAST_COLUMNS]
    columns = [column for _, column in _PAST_COLUMNS]
    for condition in lookup_chunks(session, CreditRecord.id, ids):
        rows = select(*columns).where(CreditRecord.category == category, condition)
        session.execute(insert(RecordVersion).from_select(names, rows))


def _conflicts(
    session: Session,
    category: str,
    provider: str,
    batch_id: str | None,
    now: datetime,
    disputed: list[tuple[Fact, _Current, int]],
) -> list[dict[str, Any]]:
    """The conflict rows of facts that change a record another department sent last."""
    if not disputed:
        return []
    earlier = _current_data(session, category, [current.id for _, current, _ in disputed])
    conflicts = []
    for fact, current, version in disputed:
        before = earlier.get(current.id, {})
        conflicts.append(
            {
                "record_id": current.id,
                "category": category,
                "subject_code": fact.subject_code,
                "earlier_provider": current.provider,
                "earlier_version": current.version,
                "later_provider": provider,
                "later_version": version,
                "fields": sorted(
                    k for k in set(before) | set(fact.data) if before.get(k) != fact.data.get(k)
                ),
                "batch_id": batch_id,
                "state": "open",
                "created_at": now,
            }
        )
    return conflicts


def _first_statistics(session: Session, category: str) -> None:
    """On PostgreSQL, analyze a category's partition the first time rows land in it.

    A partition that was never analyzed has no statistics: the planner then takes the
    ``(category, event_on)`` index for the lookup by ids (every row matches the category)
    and a chunk's lookup scans the whole partition, seconds per chunk on a big load. Once
    analyzed with rows in it, the planner knows the category matches everything and uses
    the key. Checked once per session and category; autovacuum keeps it current after.
    """
    if not is_postgres(session):
        return
    seen: set[str] = session.info.setdefault("records.analyzed", set())
    if category in seen:
        return
    seen.add(category)
    for name in (f"{PARTITION_PREFIX}{category}", DEFAULT_PARTITION):
        tuples = session.scalar(
            text_sql("SELECT reltuples FROM pg_class WHERE relname = :name"), {"name": name}
        )
        if tuples is None:
            continue  # no partition of its own: its rows are in the default one
        if tuples <= 0:
            session.execute(text_sql(f"ANALYZE {name}"))
        return


def _apply_changes(session: Session, category: str, changed: list[dict[str, Any]]) -> None:
    """Write updated records (and records that gained a source), grouped by what changed."""
    table = CreditRecord.__table__
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in changed:
        groups.setdefault(tuple(sorted(k for k in row if k != "rid")), []).append(row)
    for columns, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.category == category, table.c.id == bindparam("rid"))
            .values({name: bindparam(name) for name in columns})
        )
        session.execute(statement, rows)


def _expired(event_on: date | None, disclosure_days: int | None, today: date) -> bool:
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
    five years at most); ``include_expired`` is for the operator's duty, never for display.
    """
    stmt = select(CreditRecord).where(CreditRecord.subject_code == subject_code)
    if categories:
        stmt = stmt.where(CreditRecord.category.in_(list(categories)))
    rows = session.scalars(stmt.order_by(CreditRecord.category, CreditRecord.event_on)).all()
    history = _histories(session, rows) if with_history else {}
    today = clock.today()
    grouped: dict[str, CategoryRecords] = {}
    for category in catalog_service.list_categories(session, include_inactive=True):
        if categories and category.code not in categories:
            continue
        grouped[category.code] = CategoryRecords(
            category=category.code,
            name_zh=category.name_zh,
            name_en=category.name_en,
            sensitivity=category.sensitivity,
            records=[],
        )
    disclosure = {
        c.code: c.disclosure_days
        for c in catalog_service.list_categories(session, include_inactive=True)
    }
    for row in rows:
        group = grouped.get(row.category)
        if group is None:
            continue
        if not include_expired and _expired(row.event_on, disclosure.get(row.category), today):
            group.hidden_expired += 1
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
            c.code: c.disclosure_days
            for c in catalog_service.list_categories(session, include_inactive=True)
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
            if not include_expired and _expired(event_on, disclosure.get(category), today):
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


def _bulk_category(
    session: Session,
    category: str,
    wanted: list[str],
    disclosure: Mapping[str, int | None],
    on: date | None,
) -> pl.DataFrame:
    statement = select(cast(CreditRecord.data, Text)).where(CreditRecord.category == category)
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
    statement = statement.where(CreditRecord.category.in_(list(wanted)))
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


def conflicts_by(
    session: Session, *, state: str | None = "open", page: int = 1, size: int = 20
) -> tuple[Sequence[RecordConflict], int]:
    """Conflicts between departments, open ones by default, newest first."""
    from xinyidai.core.pagination import paginate

    stmt = select(RecordConflict).order_by(RecordConflict.id.desc())
    if state:
        stmt = stmt.where(RecordConflict.state == state)
    return paginate(session, stmt, page=page, size=size)


def resolve_conflict(session: Session, *, conflict_id: int, actor: str) -> RecordConflict:
    """Mark a conflict as seen and settled by the operator."""
    conflict = session.get(RecordConflict, conflict_id)
    if conflict is None:
        raise NotFound("no conflict {id}", field="conflict_id", id=conflict_id)
    conflict.state = "resolved"
    conflict.resolved_by = actor
    conflict.resolved_at = clock.now()
    session.flush()
    return conflict


def conflict_counts(session: Session) -> dict[tuple[str, str], int]:
    """Open and resolved conflicts by (later provider, category)."""
    rows = session.execute(
        select(RecordConflict.later_provider, RecordConflict.category, func.count()).group_by(
            RecordConflict.later_provider, RecordConflict.category
        )
    )
    return {(provider, category): int(n) for provider, category, n in rows}


VERIFY_OPS = ("exists", "not_exists", "eq", "ne", "gt", "gte", "lt", "lte", "in")


def _comparable(value: Any) -> Any:
    from decimal import Decimal, InvalidOperation

    if isinstance(value, bool) or value is None:
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return str(value)


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return False
    if op == "in":
        return _comparable(actual) in {_comparable(v) for v in expected}
    left, right = _comparable(actual), _comparable(expected)
    if type(left) is not type(right):
        left, right = str(actual), str(expected)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def verify(
    session: Session,
    *,
    credit_code: str,
    category: str,
    op: str,
    field: str | None = None,
    value: Any = None,
) -> bool:
    """Whether a fact about a subject holds, answered yes or no without the record itself.

    ``exists`` / ``not_exists`` ask whether any current record of the category (matching
    ``field`` = ``value`` when given) is shown; a comparison asks it of the latest record.
    Records past their disclosure period count as absent.
    """
    if op not in VERIFY_OPS:
        raise ValidationFailed("op must be one of {ops}", field="op", ops=", ".join(VERIFY_OPS))
    spec = catalog_service.spec_of(catalog_service.get_by_code_or_raise(session, code=category))
    names = {f.name for f in spec.fields}
    if field is not None and field not in names:
        raise ValidationFailed(
            "category {category} has no field {name}", field="field", category=category, name=field
        )
    if op not in ("exists", "not_exists") and (field is None or value is None):
        raise ValidationFailed("a comparison needs a field and a value", field="value")
    if op == "in" and not isinstance(value, list):
        raise ValidationFailed("op in needs a list of values", field="value")
    today = clock.today()
    rows = [
        row
        for row in session.scalars(
            select(CreditRecord)
            .where(CreditRecord.subject_code == credit_code, CreditRecord.category == category)
            .order_by(CreditRecord.event_on.desc(), CreditRecord.updated_at.desc())
        )
        if not _expired(row.event_on, spec.disclosure_days, today)
    ]
    if op in ("exists", "not_exists"):
        matching = [
            r
            for r in rows
            if field is None or value is None or _holds(r.data.get(field), "eq", value)
        ]
        return bool(matching) == (op == "exists")
    return bool(rows) and _holds(rows[0].data.get(field), op, value)


def ledger_actor(provider: str) -> str:
    """How a department is named as the actor of its record versions' leaves (sealed as a
    tag in the leaf; the department's ledger key is that of this label)."""
    return f"provider:{provider}"


def ledger_party(
    *, organization_kind: str, credit_code: str | None, organization_code: str | None
) -> tuple[str, str]:
    """Which leaves an organization may find with its own ledger key, as (role, label): an
    enterprise those of its records (the subject), a department those it sent (the actor)."""
    if organization_kind == "enterprise" and credit_code:
        return "subject", credit_code
    if organization_kind == "provider" and organization_code:
        return "actor", ledger_actor(organization_code)
    raise Forbidden("only an enterprise or a department has a ledger key", field="organization")


def _data_digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def _stored_events(
    rid: str,
    version: int,
    subject: str,
    provider: str,
    data: dict[str, Any],
    digest: str,
    salt: bytes | None,
) -> list[StoredEvent]:
    """A stored record version as the ledger checks it: its data re-hashed, and its digest
    column too where the two differ (each must be what the leaf committed to)."""
    ref = f"{rid}:{version}"
    actor = ledger_actor(provider)
    raw = None if salt is None else bytes(salt)
    recomputed = _data_digest(data)
    found = [StoredEvent(ref, recomputed, raw, subject, actor)]
    if digest != recomputed:
        found.append(StoredEvent(ref, digest, raw, subject, actor))
    return found


_STORED_CURRENT = (
    CreditRecord.id,
    CreditRecord.version,
    CreditRecord.subject_code,
    CreditRecord.provider,
    CreditRecord.data,
    CreditRecord.digest,
    CreditRecord.salt,
)
_STORED_PAST = (
    RecordVersion.record_id,
    RecordVersion.version,
    RecordVersion.subject_code,
    RecordVersion.provider,
    RecordVersion.data,
    RecordVersion.digest,
    RecordVersion.salt,
)


def _version_leaves(session: Session) -> Iterable[StoredEvent]:
    """Every stored record version, current and past, its data re-hashed: each must have its
    ledger leaf, so a version whose data, digest or salt was edited behind the ledger (or
    that was added around it) is named by ``xyd ledger verify``."""
    for columns in (_STORED_CURRENT, _STORED_PAST):
        statement = select(*columns).execution_options(yield_per=5000)
        for row in session.execute(statement):
            yield from _stored_events(*row)


ledger_service.register_source(LEDGER_KIND, _version_leaves)


# --- read-only lookups for the ledger check (portal) and for entitled readers -------------


def leaf_digest(
    *,
    record_id: str,
    version: int,
    subject_code: str,
    provider: str,
    digest: str,
    salt: bytes | None,
) -> str:
    """The digest the leaf of a record version carries: the salted commitment (format 2),
    or the digest itself for a version stored before salts."""
    stored = StoredEvent(
        f"{record_id}:{version}",
        digest,
        None if salt is None else bytes(salt),
        subject_code,
        ledger_actor(provider),
    )
    return ledger_service.expected_digest(LEDGER_KIND, stored)


def shown_commitment(*, credit_code: str, record: Mapping[str, Any]) -> str:
    """The commitment of a record version as a reader was shown it in full (the API's
    record or version with its ``ledger`` member): recomputed from the data, the department,
    the ids and the salt, as the reader does before asking for the inclusion proof."""
    ledger = record.get("ledger") or {}
    salt = ledger.get("salt")
    return leaf_digest(
        record_id=record["id"],
        version=int(record["version"]),
        subject_code=credit_code,
        provider=record["provider"],
        digest=_data_digest(dict(record["data"])),
        salt=None if salt is None else bytes.fromhex(salt),
    )


def current_versions(
    session: Session, *, credit_code: str, category: str
) -> list[tuple[str, int, str, date | None]]:
    """The records of one subject in one category as (record id, current version, the digest
    its leaf carries, event date), most recently changed first: where a ledger check by
    record starts."""
    rows = session.execute(
        select(
            CreditRecord.id,
            CreditRecord.version,
            CreditRecord.provider,
            CreditRecord.digest,
            CreditRecord.salt,
            CreditRecord.event_on,
        )
        .where(CreditRecord.subject_code == credit_code, CreditRecord.category == category)
        .order_by(CreditRecord.updated_at.desc(), CreditRecord.id)
    )
    return [
        (
            rid,
            version,
            leaf_digest(
                record_id=rid,
                version=version,
                subject_code=credit_code,
                provider=provider,
                digest=digest,
                salt=salt,
            ),
            event_on,
        )
        for rid, version, provider, digest, salt, event_on in rows
    ]


def ledger_proofs(
    session: Session, *, subject_code: str, versions: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], RecordLedgerOut]:
    """For record versions shown to a reader entitled to them in full: what lets it check
    that each is in the ledger (its salt, the commitment and the leaf's index).

    Only for versions the reader sees raw: the salt lets whoever holds it test guesses of
    the record's values, as the data itself would. Versions of other subjects are ignored.
    """
    wanted = set(versions)
    if not wanted:
        return {}
    ids = sorted({rid for rid, _ in wanted})
    found: dict[tuple[str, int], tuple[str, str, bytes | None]] = {}
    for columns, model in ((_STORED_CURRENT, CreditRecord), (_STORED_PAST, RecordVersion)):
        key = columns[0]
        for condition in lookup_chunks(session, key, ids):
            statement = select(*columns).where(condition, model.subject_code == subject_code)
            for rid, version, _, provider, _, digest, salt in session.execute(statement):
                if (rid, version) in wanted:
                    found[(rid, version)] = (provider, digest, salt)
    digests = {
        pair: leaf_digest(
            record_id=pair[0],
            version=pair[1],
            subject_code=subject_code,
            provider=provider,
            digest=digest,
            salt=salt,
        )
        for pair, (provider, digest, salt) in found.items()
    }
    indexes = ledger_service.indexes_of(session, digests=list(digests.values()))
    return {
        pair: RecordLedgerOut(
            format=ledger_service.FORMAT_1 if found[pair][2] is None else ledger_service.FORMAT_2,
            salt=None if found[pair][2] is None else bytes(found[pair][2] or b"").hex(),
            digest=found[pair][1],
            commitment=value,
            index=indexes.get(value),
        )
        for pair, value in digests.items()
    }


def _version_bodies(session: Session, ref: str) -> list[StoredEvent]:
    """A record version's data as stored now, re-hashed, with its salt.

    The version row, and the record row while that version is current: either may have been
    edited behind the ledger. Empty when neither is there.
    """
    rid, _, number = ref.rpartition(":")
    if not rid or not number.isdigit():
        return []
    version = int(number)
    found: list[StoredEvent] = []
    stored = session.execute(
        select(*_STORED_PAST).where(
            RecordVersion.record_id == rid, RecordVersion.version == version
        )
    ).first()
    if stored is not None:
        found.append(_stored_events(*stored)[0])
    current = session.execute(select(*_STORED_CURRENT).where(CreditRecord.id == rid)).first()
    if current is not None and current[1] == version:
        found.append(_stored_events(*current)[0])
    return found


ledger_service.register_body(LEDGER_KIND, _version_bodies)


# --------------------------------------------------------------------------- partitions

PARTITION_PREFIX = "credit_record_p_"
DEFAULT_PARTITION = f"{PARTITION_PREFIX}default"


@dataclass(slots=True)
class Partition:
    name: str
    category: str | None  # None: the default partition
    rows: int


def partitions(session: Session) -> list[Partition]:
    """The partitions of ``credit_record`` on PostgreSQL with their live row counts.

    The counts are the statistics collector's, so a moment behind the latest commits.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(
        text_sql(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
            "coalesce(s.n_live_tup, 0) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE i.inhparent = 'credit_record'::regclass ORDER BY c.relname"
        )
    ).all()
    found = []
    for name, bound, count in rows:
        category = None if bound == "DEFAULT" else name.removeprefix(PARTITION_PREFIX)
        found.append(Partition(name=name, category=category, rows=int(count)))
    return found


def add_partition(session: Session, *, category: str) -> Partition:
    """Give a catalogue category its own partition (PostgreSQL).

    Only while the default partition holds none of its rows: moving rows that versions
    already point at is a maintenance-window job (docs/operations.md), not a command.
    """
    if session.get_bind().dialect.name != "postgresql":
        raise ValidationFailed(
            "partitions exist only on PostgreSQL; this database is {dialect}",
            field="database",
            dialect=session.get_bind().dialect.name,
        )
    spec = catalog_service.get_by_code_or_raise(session, code=category)
    if any(p.category == spec.code for p in partitions(session)):
        raise Conflict(
            "category {category} already has its own partition",
            field="category",
            category=spec.code,
        )
    waiting = session.scalar(
        text_sql(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE category = :c"), {"c": spec.code}
    )
    if waiting:
        raise Conflict(
            "the default partition already holds {count} records of {category}; "
            "move them in a maintenance window first",
            field="category",
            count=int(waiting or 0),
            category=spec.code,
        )
    name = f"{PARTITION_PREFIX}{spec.code}"
    session.execute(
        text_sql(f"CREATE TABLE {name} PARTITION OF credit_record FOR VALUES IN ('{spec.code}')")
    )
    return Partition(name=name, category=spec.code, rows=0)


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
